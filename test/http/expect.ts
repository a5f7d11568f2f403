// Assertions shared by the HTTP tests: the problem-details shape every refusal must have, and a
// send that must succeed.
import assert from 'node:assert/strict';
import { Problem } from '../../src/api/schemas.js';
import type { TestApp } from '../support/app.js';

export type Res = Awaited<ReturnType<TestApp['call']>>;

/** A refusal: the given status and stable code, as RFC 9457 problem details, never a 5xx. */
export function assertProblem(res: Res, status: number, code: string): void {
  assert.ok(res.status < 500, `a client mistake answered ${res.status}: ${res.body}`);
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${res.body}`);
  assert.match(String(res.headers['content-type']), /^application\/problem\+json\b/);
  const parsed = Problem.safeParse(res.json);
  assert.ok(parsed.success, `not a problem document: ${res.body}`);
  const p = parsed.data;
  assert.equal(p.status, status);
  assert.equal(p.code, code);
  assert.ok(p.type.length > 0 && p.title.length > 0 && p.detail.length > 0, `empty problem field: ${res.body}`);
}

/** POST /v1/messages that must be created (201); returns the response document. */
export async function sendOk(h: TestApp, token: string, body: Record<string, unknown>, opts: { as?: string; headers?: Record<string, string> } = {}): Promise<any> {
  const r = await h.call('POST', '/v1/messages', { token, body, ...opts });
  assert.equal(r.status, 201, `send failed: ${r.status} ${r.body}`);
  assert.equal(r.json.duplicate, false);
  return r.json;
}

/** The ids of the caller's inbox items, in the order the hub lists them. */
export async function inboxIds(h: TestApp, token: string, query = ''): Promise<string[]> {
  const r = await h.call('GET', `/v1/inbox${query}`, { token });
  assert.equal(r.status, 200, r.body);
  return r.json.items.map((i: any) => i.message.id as string);
}

/** A well-formed message id that names no message. */
export const UNKNOWN_ID = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
