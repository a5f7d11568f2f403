// Encryption at rest, as the tests need it from outside the hub: the old value format (what hubs
// before issue 12 wrote, and what a hostile sender may imitate), key ids, and reading a hub's
// rotation over HTTP.
import { createCipheriv, createHash, randomBytes } from 'node:crypto';

/** The key id the hub names a base64 key by (first 8 bytes of its SHA-256, hex). */
export function idOf(keyBase64: string): string {
  return createHash('sha256').update(Buffer.from(keyBase64, 'base64')).digest('hex').slice(0, 16);
}

/** `enc:v1:<key id>:<base64 iv|tag|ciphertext>` with no associated data: the format before issue 12. */
export function legacyValue(keyBase64: string, plain: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyBase64, 'base64'), iv);
  const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
  return `enc:v1:${idOf(keyBase64)}:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
}

export interface Reply {
  status: number;
  json: any;
}

/** One HTTP call with a bearer token; the answer whatever its status. */
export async function call(url: string, token: string, method: string, path: string, body?: unknown): Promise<Reply> {
  const r = await fetch(`${url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text === '' ? null : JSON.parse(text) };
}

/** Like `call`, but anything other than 2xx fails the test. */
export async function ok(url: string, token: string, method: string, path: string, body?: unknown): Promise<any> {
  const r = await call(url, token, method, path, body);
  if (r.status < 200 || r.status > 299) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.json)}`);
  return r.json;
}
