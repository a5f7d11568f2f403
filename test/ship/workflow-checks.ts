// The checks test/ship/workflows.test.ts runs over .github/workflows, the deployment docs, the
// README and .ci/run. Each takes the files as read (so that the test can also hand it a broken
// copy and see it complain) and answers its problems, one line each; none means it passes.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.js';
import { jobRuns, type Status, type Value } from './expression.js';

export interface Workflow {
  file: string;
  text: string;
  doc: any;
}

export interface Inputs {
  workflows: Workflow[];
  deploymentDoc: string;
  readme: string;
  ciRun: string;
  /** Whether a path (relative to the repository root) exists. */
  exists: (path: string) => boolean;
}

export const WORKFLOWS = join(ROOT, '.github', 'workflows');

export function workflow(file: string, text: string): Workflow {
  return { file, text, doc: parse(text) };
}

export function readInputs(): Inputs {
  const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
  return {
    workflows: files.sort().map((f) => workflow(f, readFileSync(join(WORKFLOWS, f), 'utf8'))),
    deploymentDoc: readFileSync(join(ROOT, 'docs', 'deployment.md'), 'utf8'),
    readme: readFileSync(join(ROOT, 'README.md'), 'utf8'),
    ciRun: readFileSync(join(ROOT, '.ci', 'run'), 'utf8'),
    exists: (p) => existsSync(join(ROOT, p)),
  };
}

const jobsOf = (w: Workflow): [string, any][] => Object.entries(w.doc?.jobs ?? {});
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);
const stepsOf = (job: any): any[] => (Array.isArray(job?.steps) ? job.steps : []);
/** The job whose steps run `command` (a script and its subcommand), if any. */
const jobRunning = (w: Workflow, command: RegExp) => jobsOf(w).find(([, job]) => stepsOf(job).some((s) => typeof s.run === 'string' && command.test(s.run)));

/** Every `needs` names a job of the same workflow, and no job depends on itself through others. */
export function needsProblems(i: Inputs): string[] {
  const out: string[] = [];
  for (const w of i.workflows) {
    const jobs = new Map(jobsOf(w).map(([id, job]) => [id, list(job?.needs)]));
    for (const [id, needs] of jobs) for (const n of needs) if (!jobs.has(n)) out.push(`${w.file}: job ${id} needs ${n}, which is no job of this workflow`);
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (id: string, path: string[]): void => {
      if (state.get(id) === 'done') return;
      if (state.get(id) === 'visiting') {
        out.push(`${w.file}: needs form a cycle: ${[...path.slice(path.indexOf(id)), id].join(' -> ')}`);
        return;
      }
      state.set(id, 'visiting');
      for (const n of jobs.get(id) ?? []) if (jobs.has(n)) visit(n, [...path, id]);
      state.set(id, 'done');
    };
    for (const id of jobs.keys()) visit(id, []);
  }
  return out;
}

/** The secrets table of the CI/CD section: name -> the environments it is set in. */
export function documentedSecrets(doc: string): Map<string, string[]> {
  const section = /^## CI\/CD\n([\s\S]*?)(?=^## )/m.exec(doc)?.[1] ?? '';
  const out = new Map<string, string[]>();
  let inTable = false;
  for (const line of section.split('\n')) {
    if (/^\| *secret *\|/i.test(line)) inTable = true;
    else if (!line.startsWith('|')) inTable = false;
    const m = inTable ? /^\| *`([A-Z][A-Z0-9_]*)` *\| *([^|]*)\|/.exec(line) : null;
    if (m) out.set(m[1] as string, [...(m[2] as string).matchAll(/`([\w-]+)`/g)].map((e) => e[1] as string).sort());
  }
  return out;
}

/** Environments a job runs in: its `environment`, resolved through each caller's `with` when it is an input. */
function environmentsOf(i: Inputs, w: Workflow, job: any): string[] {
  const env = typeof job?.environment === 'object' ? job.environment?.name : job?.environment;
  if (env === undefined) return [];
  const input = /^\$\{\{\s*inputs\.([\w-]+)\s*\}\}$/.exec(String(env))?.[1];
  if (input === undefined) return [String(env)];
  return i.workflows.flatMap((caller) => jobsOf(caller).filter(([, j]) => j?.uses === `./.github/workflows/${w.file}`).map(([, j]) => String(j.with?.[input])));
}

/** Every secret the workflows read is in the docs' table with the environments it is read in, and no other. */
export function secretsProblems(i: Inputs): string[] {
  const documented = documentedSecrets(i.deploymentDoc);
  const used = new Map<string, Set<string>>();
  for (const w of i.workflows) {
    for (const [, job] of jobsOf(w)) {
      for (const m of JSON.stringify(job).matchAll(/\$\{\{[^}]*?\bsecrets\.([A-Za-z_][A-Za-z0-9_]*)/g)) {
        const set = used.get(m[1] as string) ?? new Set<string>();
        for (const e of environmentsOf(i, w, job)) set.add(e);
        used.set(m[1] as string, set);
      }
    }
  }
  const out: string[] = [];
  for (const [name, envs] of used) {
    const doc = documented.get(name);
    if (doc === undefined) out.push(`secret ${name} is read by the workflows but not in the secrets table of docs/deployment.md#cicd`);
    else if (doc.join(',') !== [...envs].sort().join(',')) out.push(`secret ${name}: the docs say environments [${doc.join(', ')}], the workflows read it in [${[...envs].sort().join(', ')}]`);
  }
  for (const name of documented.keys()) if (!used.has(name)) out.push(`secret ${name} is in the docs' secrets table but no workflow reads it`);
  return out;
}

/** Every action is pinned by a full commit SHA with its version in a comment; local ones exist. */
export function pinProblems(i: Inputs): string[] {
  const out: string[] = [];
  for (const w of i.workflows) {
    for (const [id, job] of jobsOf(w)) {
      for (const uses of [job?.uses, ...stepsOf(job).map((s) => s.uses)].filter((u): u is string => typeof u === 'string')) {
        if (uses.startsWith('./')) {
          if (!i.exists(uses)) out.push(`${w.file}: job ${id} uses ${uses}, which is not in the repository`);
        } else if (!/^[\w.-]+\/[\w./-]+@[0-9a-f]{40}$/.test(uses)) {
          out.push(`${w.file}: job ${id} uses ${uses}: not pinned to a full commit SHA`);
        } else if (!w.text.split('\n').some((line) => line.includes(uses) && /#\s*v\d+(\.\d+)*\s*$/.test(line))) {
          out.push(`${w.file}: job ${id} uses ${uses} without its version in a comment (# vX.Y.Z)`);
        }
      }
    }
  }
  return out;
}

const REPO_PATH = /^(?:\.\/)?(?:scripts|deploy|test|docs|src|bin|\.ci|\.github)\/[\w.@/-]*\w$/;
const PATH_KEYS = new Set(['context', 'file', 'cache-dependency-path', 'overlay', 'working-directory']);

/** Every repository path a workflow names (in a script, an input, a with) exists. */
export function pathProblems(i: Inputs): string[] {
  const out: string[] = [];
  for (const w of i.workflows) {
    for (const [id, job] of jobsOf(w)) {
      const walk = (v: unknown, key: string): void => {
        if (Array.isArray(v)) v.forEach((x) => walk(x, key));
        else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
        else if (typeof v === 'string' && key !== 'uses') {
          const text = v.replace(/\$\{\{[\s\S]*?\}\}/g, ' ');
          const tokens = text.split(/[\s"'`;|&()<>=,]+/).filter((t) => REPO_PATH.test(t));
          if (PATH_KEYS.has(key) && /^\S+$/.test(text)) tokens.push(text);
          for (const t of new Set(tokens)) if (!i.exists(t)) out.push(`${w.file}: job ${id}: ${key} names ${t}, which is not in the repository`);
        }
      };
      walk(job, id);
    }
  }
  return out;
}

type Result = 'success' | 'failure' | 'cancelled' | 'skipped';

/** Whether GitHub runs `job` when the jobs it needs ended with `results` (one per needed job). */
function runs(job: any, results: Record<string, Result>, cancelled = false): boolean {
  const all = Object.values(results);
  const status: Status = { success: all.every((r) => r === 'success'), failure: all.includes('failure'), cancelled };
  const needs: Record<string, Value> = {};
  for (const [id, result] of Object.entries(results)) needs[id] = { result, outputs: {} };
  return jobRuns(job?.if === undefined ? undefined : String(job.if), { needs, github: { ref: 'refs/tags/v1.0.0' }, inputs: {} }, status);
}

/**
 * The rollback job runs exactly when the deploy or the smoke test failed (not after a success, not
 * in a cancelled run), and the smoke test only after a deploy that succeeded.
 */
export function rollbackProblems(i: Inputs): string[] {
  const out: string[] = [];
  const w = i.workflows.find((x) => jobRunning(x, /scripts\/rollout\.mjs undo\b/) !== undefined);
  if (w === undefined) return ['no workflow has a job that runs scripts/rollout.mjs undo'];
  const [rollbackId, rollback] = jobRunning(w, /scripts\/rollout\.mjs undo\b/) as [string, any];
  const [deployId] = jobRunning(w, /scripts\/rollout\.mjs deploy\b/) ?? [];
  const [smokeId, smoke] = jobRunning(w, /scripts\/smoke\.mjs\b/) ?? [];
  if (deployId === undefined || smokeId === undefined) return [`${w.file}: no deploy job (rollout.mjs deploy) or no smoke job (smoke.mjs) beside ${rollbackId}`];
  for (const id of [deployId, smokeId]) if (!list(rollback.needs).includes(id)) out.push(`${w.file}: ${rollbackId} does not need ${id}, so it cannot run when ${id} fails`);
  if (!list(smoke.needs).includes(deployId)) out.push(`${w.file}: ${smokeId} does not need ${deployId}: it could test before the rollout`);
  const cases: [Record<string, Result>, boolean, string][] = [
    [{ [deployId]: 'failure', [smokeId]: 'skipped' }, true, 'the deploy failed'],
    [{ [deployId]: 'success', [smokeId]: 'failure' }, true, 'the smoke test failed'],
    [{ [deployId]: 'success', [smokeId]: 'success' }, false, 'both succeeded'],
    [{ [deployId]: 'skipped', [smokeId]: 'skipped' }, false, 'the deploy never ran'],
  ];
  const rollbackNeeds = (r: Record<string, Result>) => Object.fromEntries(list(rollback.needs).map((n) => [n, r[n] ?? 'success']));
  for (const [results, want, what] of cases) {
    if (runs(rollback, rollbackNeeds(results)) !== want) out.push(`${w.file}: ${rollbackId} ${want ? 'does not run' : 'runs'} when ${what} (if: ${rollback.if ?? '(none)'})`);
  }
  if (runs(rollback, rollbackNeeds({ [deployId]: 'cancelled', [smokeId]: 'skipped' }), true)) out.push(`${w.file}: ${rollbackId} runs in a cancelled run`);
  if (runs(smoke, { [deployId]: 'failure' })) out.push(`${w.file}: ${smokeId} runs after a failed deploy`);
  if (!runs(smoke, { [deployId]: 'success' })) out.push(`${w.file}: ${smokeId} does not run after a deploy that succeeded`);
  return out;
}

/** The README's test command: the quick start's line that runs the tests. */
export function readmeTestCommand(readme: string): string | undefined {
  const quickStart = /^## Quick start\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1] ?? '';
  return /^(npm (?:run )?test\b[^#\n]*?)\s*(?:#.*)?$/m.exec(quickStart)?.[1]?.trim();
}

/** .ci/run runs exactly the README's test command, and so does the CI workflow's test job. */
export function testCommandProblems(i: Inputs): string[] {
  const want = readmeTestCommand(i.readme);
  if (want === undefined) return ["README.md's quick start shows no test command"];
  const out: string[] = [];
  const commands = i.ciRun
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !/^(set|cd) /.test(l));
  if (commands.join('\n') !== want) out.push(`.ci/run runs ${JSON.stringify(commands)}, not exactly the README's ${JSON.stringify(want)}`);
  const ci = i.workflows.find((w) => w.file === 'ci.yml');
  const runsIt = jobsOf(ci ?? { file: '', text: '', doc: {} }).some(([, job]) => stepsOf(job).some((s) => typeof s.run === 'string' && s.run.trim() === want));
  if (!runsIt) out.push(`ci.yml has no step that runs exactly ${JSON.stringify(want)}`);
  return out;
}

/** ci.yml: on pushes and pull requests, Node 20 with the npm cache, PostgreSQL 15 beside it and the suite pointed at it, within 90 minutes. */
export function ciProblems(i: Inputs): string[] {
  const ci = i.workflows.find((w) => w.file === 'ci.yml');
  if (ci === undefined) return ['no .github/workflows/ci.yml'];
  const out: string[] = [];
  const on = ci.doc?.on ?? {};
  for (const event of ['push', 'pull_request']) if (!(event in on)) out.push(`ci.yml does not run on ${event}`);
  const test = jobsOf(ci).find(([, job]) => stepsOf(job).some((s) => typeof s.run === 'string' && s.run.trim() === readmeTestCommand(i.readme)));
  if (test === undefined) return [...out, 'ci.yml: no job runs the test command'];
  const [id, job] = test;
  const services = Object.entries(job.services ?? {}) as [string, any][];
  const pg = services.find(([, s]) => /^postgres:15(\b|$)/.test(String(s?.image)));
  if (pg === undefined) out.push(`ci.yml: job ${id} has no postgres:15 service`);
  const url = String(job.env?.SWARM_TEST_DATABASE_URL ?? '');
  const host = /^postgres(?:ql)?:\/\/[^@/]*@?([^:/]+)(?::(\d+))?\//.exec(url);
  // From a job container the service is reached by its name; from the runner, on a published port of localhost.
  const wantHost = job.container === undefined ? '127.0.0.1' : pg?.[0];
  if (host === null || host[1] !== wantHost || (host[2] ?? '5432') !== '5432') out.push(`ci.yml: job ${id}: SWARM_TEST_DATABASE_URL ${JSON.stringify(url)} does not point at the PostgreSQL service (${wantHost}:5432)`);
  const node = stepsOf(job).find((s) => String(s.uses).startsWith('actions/setup-node@'));
  if (String(node?.with?.['node-version']) !== '20' || node?.with?.cache !== 'npm') out.push(`ci.yml: job ${id} does not set up Node 20 with the npm cache`);
  const minutes = Number(job['timeout-minutes']);
  if (!(minutes > 0 && minutes <= 90)) out.push(`ci.yml: job ${id} timeout-minutes ${job['timeout-minutes']} is not within 90`);
  return out;
}

/**
 * Least privilege and one run at a time: every workflow sets `permissions` (none write-all); only
 * the image job may write packages; every job that runs steps has a timeout; the release and CI
 * workflows, and each job that calls the deploy, have a concurrency group.
 */
export function hygieneProblems(i: Inputs): string[] {
  const out: string[] = [];
  for (const w of i.workflows) {
    if (w.doc?.permissions === undefined) out.push(`${w.file}: no top-level permissions`);
    if (/write-all/.test(w.text)) out.push(`${w.file}: write-all permissions`);
    if (w.doc?.on?.workflow_call === undefined || Object.keys(w.doc.on).length > 1) {
      if (w.doc?.concurrency === undefined) out.push(`${w.file}: no concurrency group`);
    }
    for (const [id, job] of jobsOf(w)) {
      if (job?.steps !== undefined && !(Number(job['timeout-minutes']) > 0)) out.push(`${w.file}: job ${id} has no timeout-minutes`);
      const writes = Object.entries(job?.permissions ?? {}).filter(([, v]) => v === 'write').map(([k]) => k);
      const building = stepsOf(job).some((s) => String(s.uses).startsWith('docker/build-push-action@'));
      if (writes.length > 0 && !(building && writes.join() === 'packages')) out.push(`${w.file}: job ${id} may write ${writes.join(', ')}`);
      if (String(job?.uses).endsWith('/deploy.yml') && job.concurrency === undefined) out.push(`${w.file}: job ${id} deploys without a concurrency group`);
    }
  }
  return out;
}

/** A job that calls a workflow of this repository gives it exactly the inputs it declares, and its secrets. */
export function callProblems(i: Inputs): string[] {
  const out: string[] = [];
  for (const w of i.workflows) {
    for (const [id, job] of jobsOf(w)) {
      const uses = String(job?.uses ?? '');
      if (!uses.startsWith('./.github/workflows/')) continue;
      const callee = i.workflows.find((x) => `./.github/workflows/${x.file}` === uses);
      const call = callee?.doc?.on?.workflow_call;
      if (callee === undefined || call === undefined) {
        out.push(`${w.file}: job ${id} calls ${uses}, which is not a workflow with on.workflow_call`);
        continue;
      }
      const declared = (call?.inputs ?? {}) as Record<string, { required?: boolean }>;
      const given = Object.keys(job.with ?? {});
      for (const k of given) if (!(k in declared)) out.push(`${w.file}: job ${id} passes ${k}, which ${callee.file} does not declare`);
      for (const [k, d] of Object.entries(declared)) if (d?.required === true && !given.includes(k)) out.push(`${w.file}: job ${id} does not pass ${k}, which ${callee.file} requires`);
      if (/\bsecrets\.(?!GITHUB_TOKEN\b)/.test(callee.text) && job.secrets === undefined) out.push(`${w.file}: job ${id} passes no secrets to ${callee.file}, which reads some`);
    }
  }
  return out;
}

/** Every check, by name. */
export const CHECKS = {
  needs: needsProblems,
  secrets: secretsProblems,
  pins: pinProblems,
  paths: pathProblems,
  rollback: rollbackProblems,
  testCommand: testCommandProblems,
  ci: ciProblems,
  hygiene: hygieneProblems,
  calls: callProblems,
};
