// GitHub Actions expressions, as far as a job's `if:` uses them: literals, context paths
// (needs.deploy.result, github.ref, inputs.x), ! == != < <= > >= && || and parentheses, and the
// functions success() failure() cancelled() always() startsWith() endsWith() contains(). Enough to
// decide, for given results of the jobs a job needs, whether GitHub would run it
// (test/ship/workflows.test.ts); anything else is an error, not a guess.
//
// Semantics from GitHub's "Evaluate expressions in workflows and actions": && and || answer an
// operand as JavaScript does; == compares strings ignoring case; a job's `if` without a status
// function means `success() && (…)`; success() is true when every job it depends on, directly or
// not, succeeded; failure() when any of them failed; cancelled() when the run was cancelled.

export type Value = string | number | boolean | null | { [k: string]: Value };

export interface Status {
  success: boolean;
  failure: boolean;
  cancelled: boolean;
}

const TOKEN = /\s*(?:('(?:[^']|'')*')|(\d+(?:\.\d+)?)|([A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*)|(==|!=|<=|>=|&&|\|\||[!<>(),]))/y;

function tokenize(text: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  while (TOKEN.lastIndex < text.length) {
    if (/^\s*$/.test(text.slice(TOKEN.lastIndex))) break;
    const at = TOKEN.lastIndex;
    const m = TOKEN.exec(text);
    if (m === null) throw new Error(`cannot read the expression at ${JSON.stringify(text.slice(at, at + 20))} in ${JSON.stringify(text)}`);
    out.push((m[1] ?? m[2] ?? m[3] ?? m[4]) as string);
  }
  return out;
}

const truthy = (v: Value): boolean => !(v === null || v === false || v === 0 || v === '');
const str = (v: Value): string => (typeof v === 'string' ? v : JSON.stringify(v));

function equal(a: Value, b: Value): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  return a === b;
}

/** Evaluates `text` (with or without ${{ }}) against `context` and `status`. */
export function evaluate(text: string, context: Record<string, Value>, status: Status): Value {
  const tokens = tokenize(text.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1'));
  let i = 0;
  const peek = (): string | undefined => tokens[i];
  const take = (want?: string): string => {
    const t = tokens[i++];
    if (t === undefined || (want !== undefined && t !== want)) throw new Error(`expected ${want ?? 'more'} in ${JSON.stringify(text)}, found ${t ?? 'the end'}`);
    return t;
  };
  const functions: Record<string, (args: Value[]) => Value> = {
    success: () => status.success && !status.cancelled,
    failure: () => status.failure,
    cancelled: () => status.cancelled,
    always: () => true,
    startswith: ([a, b]) => str(a ?? '').toLowerCase().startsWith(str(b ?? '').toLowerCase()),
    endswith: ([a, b]) => str(a ?? '').toLowerCase().endsWith(str(b ?? '').toLowerCase()),
    contains: ([a, b]) => str(a ?? '').toLowerCase().includes(str(b ?? '').toLowerCase()),
  };
  function primary(): Value {
    const t = take();
    if (t === '(') {
      const v = or();
      take(')');
      return v;
    }
    if (t.startsWith("'")) return t.slice(1, -1).replaceAll("''", "'");
    if (/^\d/.test(t)) return Number(t);
    if (t === 'true' || t === 'false') return t === 'true';
    if (t === 'null') return null;
    if (peek() === '(') {
      const fn = functions[t.toLowerCase()];
      if (fn === undefined) throw new Error(`unknown function ${t} in ${JSON.stringify(text)}`);
      take('(');
      const args: Value[] = [];
      while (peek() !== ')') {
        args.push(or());
        if (peek() === ',') take(',');
      }
      take(')');
      return fn(args);
    }
    let v: Value = context;
    for (const part of t.split('.')) v = v !== null && typeof v === 'object' ? (v[part] ?? null) : null;
    return v;
  }
  function unary(): Value {
    if (peek() === '!') {
      take('!');
      return !truthy(unary());
    }
    return primary();
  }
  function comparison(): Value {
    let left = unary();
    for (let op = peek(); op !== undefined && ['==', '!=', '<', '<=', '>', '>='].includes(op); op = peek()) {
      take();
      const right = unary();
      if (op === '==' || op === '!=') left = equal(left, right) === (op === '==');
      else left = op === '<' ? Number(left) < Number(right) : op === '<=' ? Number(left) <= Number(right) : op === '>' ? Number(left) > Number(right) : Number(left) >= Number(right);
    }
    return left;
  }
  // && and || answer one of their operands: the left one when it decides (falsy for &&, truthy for ||).
  const logical =
    (op: '&&' | '||', operand: () => Value) =>
    (): Value => {
      let left = operand();
      while (peek() === op) {
        take();
        const right = operand();
        left = truthy(left) === (op === '||') ? left : right;
      }
      return left;
    };
  const and = logical('&&', comparison);
  const or = logical('||', and);
  const value = or();
  if (i !== tokens.length) throw new Error(`unexpected ${tokens[i]} in ${JSON.stringify(text)}`);
  return value;
}

/** Whether GitHub runs a job whose `if:` is `condition` (none: success()). */
export function jobRuns(condition: string | undefined, context: Record<string, Value>, status: Status): boolean {
  const text = condition === undefined ? 'success()' : /\b(success|failure|cancelled|always)\s*\(/.test(condition) ? condition : `success() && (${condition.trim().replace(/^\$\{\{([\s\S]*)\}\}$/, '$1')})`;
  return truthy(evaluate(text, context, status));
}
