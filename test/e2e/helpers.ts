// Shared by the end-to-end tests: CLI calls against one hub, the shape every refusal must have, a
// snapshot of stored data to prove a refused command changed nothing, and bounded HTTP calls.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type Counts, tableCounts } from '../support/db.js';
import { ROOT } from '../support/paths.js';
import { type CliResult, runCli } from '../support/process.js';

/** A real report with damaged emoji (valid UTF-8 mojibake, a private-use character, trailing spaces). */
export const REPORT_FIXTURE = join(ROOT, 'test', 'e2e', 'fixtures', 'infrastructure-report.md');

export interface CliOptions {
  token?: string;
  input?: string;
  cwd?: string;
  env?: Record<string, string>;
}

/** `swarm ARGS…` against the hub at `url`, as the holder of `token` (none: the CLI finds one itself). */
export function swarm(url: string, args: string[], o: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { SWARM_HUB: url, ...o.env };
  if (o.token !== undefined) env.SWARM_TOKEN = o.token;
  return runCli(args, { env, cwd: o.cwd, input: o.input });
}

function show(r: CliResult): string {
  return `exit ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
}

/** The command succeeded and printed exactly one JSON document; returns it. */
export function okJson(r: CliResult): any {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, '', show(r));
  return JSON.parse(r.stdout);
}

/** The command succeeded; returns its stdout. */
export function okText(r: CliResult): string {
  assert.equal(r.code, 0, show(r));
  assert.equal(r.stderr, '', show(r));
  return r.stdout;
}

/** A refusal: the documented exit code, nothing on stdout, one stderr line `swarm: <code>: …`. Returns the line. */
export function refused(r: CliResult, exit: number, code: string): string {
  assert.equal(r.code, exit, show(r));
  assert.equal(r.stdout, '', show(r));
  const lines = r.stderr.split('\n');
  assert.equal(lines.length, 2, `exactly one stderr line expected\n${show(r)}`);
  assert.equal(lines[1], '', show(r));
  const line = lines[0] ?? '';
  assert.ok(line.startsWith(`swarm: ${code}: `), show(r));
  assert.ok(line.length > `swarm: ${code}: `.length + 5, `the message says what went wrong\n${show(r)}`);
  return line;
}

export interface DataSnapshot {
  counts: Counts;
  /** Every delivery with its state, and every message id: what a refused command must not touch. */
  deliveries: string[];
  messages: string[];
}

export function snapshot(dataDir: string): DataSnapshot {
  const db = new Database(join(dataDir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    const deliveries = (
      db.prepare('SELECT d.recipient, m.id, d.state FROM deliveries d JOIN messages m ON m.seq = d.message_seq ORDER BY m.seq, d.recipient').all() as {
        recipient: string;
        id: string;
        state: string;
      }[]
    ).map((d) => `${d.id} ${d.recipient} ${d.state}`);
    const messages = (db.prepare('SELECT id FROM messages ORDER BY seq').all() as { id: string }[]).map((m) => m.id);
    return { counts: tableCounts(dataDir), deliveries, messages };
  } finally {
    db.close();
  }
}

/** A TCP port nothing listens on (bound, then released). */
export async function unusedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const addr = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (addr === null || typeof addr === 'string') throw new Error('no port');
  return addr.port;
}

export interface HttpResult {
  status: number;
  json: any;
}

/** One JSON request to the hub with a bearer token, bounded in time. */
export async function http(url: string, method: string, path: string, o: { token: string; body?: unknown; headers?: Record<string, string>; timeoutMs?: number }): Promise<HttpResult> {
  const headers: Record<string, string> = { authorization: `Bearer ${o.token}`, accept: 'application/json', ...o.headers };
  if (o.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url + path, {
    method,
    headers,
    body: o.body === undefined ? undefined : JSON.stringify(o.body),
    signal: AbortSignal.timeout(o.timeoutMs ?? 15_000),
  });
  const text = await res.text();
  return { status: res.status, json: text === '' ? undefined : JSON.parse(text) };
}

/** Registers agents as admin over HTTP (quicker than one CLI process each); returns their tokens. */
export async function registerAgents(url: string, adminToken: string, ids: string[], role: 'agent' | 'captain' = 'agent'): Promise<Record<string, string>> {
  const tokens: Record<string, string> = {};
  await Promise.all(
    ids.map(async (id) => {
      const r = await http(url, 'POST', '/v1/agents', { token: adminToken, body: { id, role, specialty: `${id} specialty` } });
      assert.equal(r.status, 201, JSON.stringify(r.json));
      tokens[id] = r.json.token as string;
    }),
  );
  return tokens;
}

/** Rejects when `p` has not settled within `ms`: a hung process fails the test instead of the run. */
export function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
