// Hostile requests generated from the hub's own OpenAPI document (`GET /openapi.json`): for every
// operation, requests that each carry at least one defect the hub must refuse — a missing or
// unknown token, a body that breaks the operation's schema (a wrong type, a missing or unknown
// field, a string too long or off its pattern, a number out of range, an enum value that is not
// one), malformed JSON, a wrong content type, a query or path parameter off its schema, a header
// too long — with the rest of the request valid or hostile. Nothing here lists operations or
// fields by hand: a new route is fuzzed as soon as it is in the document.
//
// "Breaks the schema" is checked, not hoped for: every generated body or parameter is run through
// `conforms` (the subset of JSON Schema the document uses) after the JSON round trip it takes on
// the wire, and kept only when it does not conform.
import fc from 'fast-check';

export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  enum?: unknown[];
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: JsonSchema;
}

export interface Operation {
  /** `POST /v1/messages` */
  id: string;
  method: string;
  path: string;
  params: Parameter[];
  body: JsonSchema | null;
}

export type Defect = 'token' | 'body-schema' | 'body-json' | 'content-type' | 'query' | 'path' | 'header';
export type TokenKind = 'agent' | 'captain' | 'admin' | 'none' | 'unknown' | 'malformed';

export interface FuzzRequest {
  op: string;
  defect: Defect;
  method: string;
  /** Path and query, percent-encoded. */
  url: string;
  token: TokenKind;
  /** The Authorization header's value for `unknown` and `malformed` tokens. */
  badAuth?: string;
  /** X-Swarm-As, only with a valid token. */
  as?: string;
  headers: Record<string, string>;
  body?: string;
  contentType?: string;
}

interface OpenApi {
  paths: Record<string, Record<string, { parameters?: Parameter[]; requestBody?: { content?: Record<string, { schema?: JsonSchema }> } }>>;
}

/** Every operation of the document. */
export function operationsOf(doc: unknown): Operation[] {
  const out: Operation[] = [];
  for (const [path, ops] of Object.entries((doc as OpenApi).paths)) {
    for (const [method, op] of Object.entries(ops)) {
      out.push({ id: `${method.toUpperCase()} ${path}`, method: method.toUpperCase(), path, params: op.parameters ?? [], body: op.requestBody?.content?.['application/json']?.schema ?? null });
    }
  }
  return out;
}

// ---- conformance (the keywords the document uses) -------------------------------------------------

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  // zod's numbers are finite (a coerced query parameter may be NaN or Infinity).
  if (typeof v === 'number') return !Number.isFinite(v) ? 'non-finite' : Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/**
 * Does `v` satisfy `s`, as the hub's validator (zod) reads it? Lengths count UTF-16 code units and
 * patterns run without the `u` flag, as zod's do.
 */
export function conforms(s: JsonSchema, v: unknown): boolean {
  if (s.anyOf !== undefined && !s.anyOf.some((b) => conforms(b, v))) return false;
  if (s.type !== undefined) {
    const types = Array.isArray(s.type) ? s.type : [s.type];
    const t = typeOf(v);
    if (!types.includes(t) && !(t === 'integer' && types.includes('number'))) return false;
  }
  if (s.enum !== undefined && !s.enum.some((e) => e === v)) return false;
  if (typeof v === 'string') {
    if (s.minLength !== undefined && v.length < s.minLength) return false;
    if (s.maxLength !== undefined && v.length > s.maxLength) return false;
    if (s.pattern !== undefined && !new RegExp(s.pattern).test(v)) return false;
  }
  if (typeof v === 'number') {
    if (s.minimum !== undefined && v < s.minimum) return false;
    if (s.maximum !== undefined && v > s.maximum) return false;
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) return false;
    if (s.maxItems !== undefined && v.length > s.maxItems) return false;
    if (s.items !== undefined && !v.every((x) => conforms(s.items as JsonSchema, x))) return false;
  }
  if (typeOf(v) === 'object') {
    const o = v as Record<string, unknown>;
    for (const k of s.required ?? []) if (!Object.hasOwn(o, k)) return false;
    for (const [k, x] of Object.entries(o)) {
      const p = s.properties?.[k];
      if (p !== undefined) {
        if (!conforms(p, x)) return false;
      } else if (s.additionalProperties === false) return false;
      else if (typeof s.additionalProperties === 'object' && !conforms(s.additionalProperties, x)) return false;
    }
  }
  return true;
}

/** What the hub parses: the JSON round trip (undefined keys dropped, -0 to 0, NaN to null). */
const wire = (v: unknown): unknown => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));

// ---- generators ------------------------------------------------------------------------------------

export interface Ingredients {
  /** Hostile text: unicode edge cases, control characters, huge strings. */
  text: fc.Arbitrary<string>;
  /** Any hostile JSON-ish value. */
  value: fc.Arbitrary<unknown>;
}

const cap = (n: number | undefined, most: number): number => Math.min(n ?? most, most);

/** Values that conform to `s` (most of the time: callers that need conformance filter). */
export function validValue(s: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if (s.anyOf !== undefined) return fc.oneof(...s.anyOf.map((b) => validValue(b, depth)));
  if (s.enum !== undefined) return fc.constantFrom(...s.enum);
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  if (types.length > 1) return fc.oneof(...types.map((type) => validValue({ ...s, type }, depth)));
  switch (types[0]) {
    case 'string':
      if (s.pattern !== undefined) return fc.stringMatching(new RegExp(s.pattern)).filter((x) => conforms(s, x));
      return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.max(s.minLength ?? 0, cap(s.maxLength, 40)) });
    case 'integer':
      return fc.integer({ min: Math.max(s.minimum ?? -1e6, -1e9), max: Math.min(s.maximum ?? 1e6, 1e9) });
    case 'number':
      return fc.double({ min: s.minimum ?? -1e6, max: s.maximum ?? 1e6, noNaN: true, noDefaultInfinity: true });
    case 'boolean':
      return fc.boolean();
    case 'array':
      return fc.array(depth > 3 ? fc.constant(null) : validValue(s.items ?? {}, depth + 1), { minLength: s.minItems ?? 0, maxLength: Math.max(s.minItems ?? 0, cap(s.maxItems, 3)) });
    case 'object': {
      const props = Object.entries(s.properties ?? {});
      if (props.length === 0 || depth > 3) return fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 });
      return fc.record(Object.fromEntries(props.map(([k, p]) => [k, validValue(p, depth + 1)])), { requiredKeys: s.required ?? [] });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

/** Values that do not conform to `s` once on the wire; null when `s` admits everything. */
export function invalidValue(s: JsonSchema, ing: Ingredients, depth = 0): fc.Arbitrary<unknown> | null {
  const ways: fc.Arbitrary<unknown>[] = [];
  const types = Array.isArray(s.type) ? s.type : s.type === undefined ? [] : [s.type];
  // A value of another JSON type, or anything hostile at all.
  if (types.length > 0 || s.anyOf !== undefined || s.enum !== undefined) ways.push(fc.oneof(ing.value, fc.constantFrom(null, true, 0, -1, 1.5, 1e308, '', 'x', [], {}, [[]], { a: 1 })));
  if (types.includes('string')) {
    if (s.minLength !== undefined && s.minLength > 0) ways.push(fc.string({ maxLength: s.minLength - 1 }));
    if (s.maxLength !== undefined && s.maxLength < 100_000) ways.push(fc.tuple(ing.text, fc.integer({ min: 1, max: 50 })).map(([t, n]) => 'y'.repeat(s.maxLength as number + n) + t));
    if (s.pattern !== undefined || s.enum !== undefined) ways.push(ing.text);
  }
  if (types.includes('integer') || types.includes('number')) {
    if (s.minimum !== undefined) ways.push(fc.integer({ min: 1, max: 1e6 }).map((n) => (s.minimum as number) - n));
    if (s.maximum !== undefined) ways.push(fc.integer({ min: 1, max: 1e6 }).map((n) => (s.maximum as number) + n));
    if (!types.includes('number')) ways.push(fc.double({ min: -1e6, max: 1e6, noNaN: true }).filter((x) => !Number.isInteger(x)));
  }
  if (types.includes('array')) {
    if (s.minItems !== undefined && s.minItems > 0) ways.push(fc.constant([]));
    if (s.maxItems !== undefined && s.maxItems <= 2000) ways.push(fc.array(validValue(s.items ?? {}, depth + 1), { minLength: s.maxItems + 1, maxLength: s.maxItems + 3 }));
    const bad = s.items === undefined || depth > 3 ? null : invalidValue(s.items, ing, depth + 1);
    if (bad !== null) ways.push(fc.tuple(fc.array(validValue(s.items ?? {}, depth + 1), { maxLength: 2 }), bad).map(([ok, b]) => [...ok, b]));
  }
  if (types.includes('object') && depth <= 3) {
    const valid = validValue(s, depth) as fc.Arbitrary<Record<string, unknown>>;
    const required = s.required ?? [];
    if (required.length > 0) ways.push(fc.tuple(valid, fc.constantFrom(...required)).map(([o, k]) => Object.fromEntries(Object.entries(o).filter(([x]) => x !== k))));
    if (s.additionalProperties === false) {
      const known = new Set(Object.keys(s.properties ?? {}));
      ways.push(fc.tuple(valid, fc.string({ minLength: 1, maxLength: 12 }).filter((k) => !known.has(k) && k !== '__proto__'), ing.value).map(([o, k, x]) => ({ ...o, [k]: x ?? null })));
    }
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      const bad = invalidValue(p, ing, depth + 1);
      if (bad !== null) ways.push(fc.tuple(valid, bad).map(([o, b]) => ({ ...o, [k]: b })));
    }
  }
  if (ways.length === 0) return null;
  return fc.oneof(...ways).filter((v) => {
    const w = wire(v);
    return w !== undefined && !conforms(s, w);
  });
}

// ---- requests --------------------------------------------------------------------------------------

/** Percent-encodes every byte of the UTF-8 form (a lone surrogate becomes U+FFFD's bytes). */
export const pct = (text: string): string => [...Buffer.from(text, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join('');
/** What the hub decodes from pct(text). */
const decoded = (text: string): string => Buffer.from(text, 'utf8').toString('utf8');

/** A query or path value (text on the wire) that the parameter's schema refuses, as the hub reads it. */
function invalidParam(p: Parameter, ing: Ingredients): fc.Arbitrary<string> | null {
  const s = p.schema;
  const numeric = s.type === 'integer' || s.type === 'number';
  if (s.pattern === undefined && s.enum === undefined && !numeric && s.minLength === undefined && s.maxLength === undefined) return null;
  const bad = invalidValue(s, ing);
  const candidates = fc.oneof(ing.text, ...(bad === null ? [] : [bad.map((v) => (typeof v === 'string' ? v : (JSON.stringify(v) ?? '')))]));
  return candidates.filter((text) => {
    const v = decoded(text);
    // Query numbers are coerced the way the schemas do (z.coerce.number(): Number(text)).
    return !conforms(s, numeric ? Number(v) : v);
  });
}

const validParam = (p: Parameter): fc.Arbitrary<string> => validValue(p.schema).map((v) => (typeof v === 'string' ? v : String(v)));

/** An Authorization header that is not `Bearer <token>`. */
const MALFORMED_AUTH = fc.oneof(fc.constantFrom('Basic YWRtaW46YWRtaW4=', 'Bearer', 'Bearer  ', 'bearer', 'Token abc', 'Bearer a b'), fc.string({ maxLength: 60 }).map((s) => `Basic ${s.replace(/[^\x21-\x7e]/g, 'x')}`));
/** `Bearer <token>` naming no token: well-formed, or any text. */
const UNKNOWN_AUTH = fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((s) => `Bearer swarm_${s}`), fc.string({ minLength: 1, maxLength: 60 }).map((s) => `Bearer ${s.replace(/[^\x21-\x7e]/g, 'x')}`));

/** Hostile requests for one operation, each with one named defect (and possibly more). */
export function requestsFor(op: Operation, ing: Ingredients, o: { notJson: fc.Arbitrary<string>; actAs: string[] }): fc.Arbitrary<FuzzRequest> {
  const path = op.params.filter((p) => p.in === 'path');
  const query = op.params.filter((p) => p.in === 'query');
  const headers = op.params.filter((p) => p.in === 'header');

  type Parts = { pathValues: string[]; queryPairs: [string, string][]; headerValues: Record<string, string>; body: unknown; token: TokenKind; as: string | undefined };
  const validToken = fc.constantFrom<TokenKind>('agent', 'agent', 'captain', 'admin');
  const parts: fc.Arbitrary<Parts> = fc.record({
    pathValues: fc.tuple(...path.map((p) => fc.oneof({ weight: 4, arbitrary: validParam(p) }, { weight: 1, arbitrary: ing.text }))),
    queryPairs: fc.tuple(...query.map((p) => fc.option(validParam(p).map((v) => [p.name, v] as [string, string]), { nil: null }))).map((xs) => xs.filter((x): x is [string, string] => x !== null)),
    headerValues: fc.constant({}),
    body: op.body === null ? fc.constant(undefined) : fc.oneof({ weight: 3, arbitrary: validValue(op.body) }, { weight: 1, arbitrary: ing.value }),
    token: validToken,
    // Acting for another agent is audited before the request is validated: allowed, and checked.
    as: fc.oneof({ weight: 11, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constantFrom(...o.actAs) }),
  });

  const finish = (defect: Defect, p: Parts, extra: { badAuth?: string; rawBody?: string; contentType?: string } = {}): FuzzRequest => {
    let url = op.path;
    path.forEach((param, i) => (url = url.replace(`{${param.name}}`, pct(p.pathValues[i] ?? ''))));
    if (p.queryPairs.length > 0) url += `?${p.queryPairs.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&')}`;
    const valid = p.token === 'agent' || p.token === 'captain' || p.token === 'admin';
    const body = extra.rawBody ?? (p.body === undefined ? undefined : JSON.stringify(p.body));
    return {
      op: op.id,
      defect,
      method: op.method,
      url,
      token: p.token,
      ...(extra.badAuth === undefined ? {} : { badAuth: extra.badAuth }),
      ...(valid && p.as !== undefined ? { as: p.as } : {}),
      headers: p.headerValues,
      ...(body === undefined ? {} : { body, contentType: extra.contentType ?? 'application/json' }),
    };
  };

  const ways: fc.Arbitrary<FuzzRequest>[] = [
    // No valid token: refused whatever else the request holds.
    fc.tuple(parts, fc.constantFrom<TokenKind>('none', 'unknown', 'malformed'), UNKNOWN_AUTH, MALFORMED_AUTH).map(([p, token, unknown, malformed]) =>
      finish('token', { ...p, token }, token === 'none' ? {} : { badAuth: token === 'unknown' ? unknown : malformed }),
    ),
  ];
  if (op.body !== null) {
    const bad = invalidValue(op.body, ing);
    if (bad !== null) ways.push(fc.tuple(parts, bad).map(([p, b]) => finish('body-schema', { ...p, body: b })));
    ways.push(fc.tuple(parts, o.notJson).filter(([, text]) => !parsesTo(op.body as JsonSchema, text)).map(([p, text]) => finish('body-json', p, { rawBody: text })));
    ways.push(
      fc.tuple(parts, fc.constantFrom('text/plain', 'text/json', 'application/xml', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded', 'application/octet-stream')).map(([p, type]) =>
        finish('content-type', { ...p, body: p.body ?? {} }, { contentType: type }),
      ),
    );
  }
  query.forEach((q) => {
    const bad = invalidParam(q, ing);
    if (bad !== null) ways.push(fc.tuple(parts, bad).map(([p, v]) => finish('query', { ...p, queryPairs: [...p.queryPairs.filter(([k]) => k !== q.name), [q.name, v]] })));
  });
  path.forEach((param, i) => {
    const bad = invalidParam(param, ing);
    if (bad !== null) ways.push(fc.tuple(parts, bad).map(([p, v]) => finish('path', { ...p, pathValues: p.pathValues.map((x, j) => (j === i ? v : x)) })));
  });
  for (const h of headers) {
    // Header values must be valid HTTP: too long is the defect that can be sent.
    if (h.schema.maxLength !== undefined) {
      ways.push(fc.tuple(parts, fc.integer({ min: 1, max: 100 })).map(([p, n]) => finish('header', { ...p, headerValues: { [h.name]: 'k'.repeat((h.schema.maxLength as number) + n) } })));
    }
  }
  return fc.oneof(...ways);
}

/** Would `text` parse to a body that conforms (then it is no defect)? */
function parsesTo(s: JsonSchema, text: string): boolean {
  try {
    return conforms(s, JSON.parse(text));
  } catch {
    return false;
  }
}
