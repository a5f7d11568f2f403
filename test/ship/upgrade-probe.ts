// What the rolling-upgrade tests ask of a hub process directly (not through the balancer) once a
// newer version has migrated the schema under it: is it still ready, and does it still send, read,
// list and acknowledge. Plus the schema's migration ledger, read straight from PostgreSQL.
import { query } from '../support/postgres.js';
import { http } from '../streams/clients.js';

export interface ProbeResult {
  readyz: number;
  send: number;
  read: number;
  listed: boolean;
  ack: number;
  /** Every step answered as a current hub answers it. */
  ok: boolean;
  detail: string;
}

/** A send from `from` to `to` through `url`, marked read, found in the inbox and acknowledged by `to`, all through that one process. */
export async function probe(url: string, from: { id: string; token: string }, to: { id: string; token: string }, key: string): Promise<ProbeResult> {
  const readyz = await http(url, 'GET', '/readyz');
  const sent = await http(url, 'POST', '/v1/messages', { token: from.token, body: { to: to.id, body: `probe ${key}` }, headers: { 'idempotency-key': key } });
  const id = (sent.json?.message?.id as string | undefined) ?? '';
  const read = await http(url, 'POST', `/v1/messages/${id}/read`, { token: to.token });
  const inbox = await http(url, 'GET', '/v1/inbox', { token: to.token });
  const listed = id !== '' && JSON.stringify(inbox.json ?? {}).includes(id);
  const ack = await http(url, 'POST', '/v1/ack', { token: to.token, body: { ids: [id] } });
  const ok = readyz.status === 200 && sent.status === 201 && id !== '' && read.status === 200 && listed && ack.status === 200;
  const detail = `readyz ${readyz.status} ${readyz.body.slice(0, 160)}; send ${sent.status}; read ${read.status}; in inbox ${listed}; ack ${ack.status} ${ack.body.slice(0, 160)}`;
  return { readyz: readyz.status, send: sent.status, read: read.status, listed, ack: ack.status, ok, detail };
}

/** The versions in the schema's migration ledger, oldest first. */
export async function ledger(schema: string): Promise<number[]> {
  return (await query<{ version: number }>(`SELECT version FROM "${schema}".schema_migrations ORDER BY version`)).map((r) => r.version);
}
