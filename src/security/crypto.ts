// Encryption at rest: AES-256-GCM with a random 96-bit IV per value and a key id, so a store can
// hold values under several keys while a rotation runs. An encrypted value is the text
// `enc:v1:<key id>:<base64 iv|tag|ciphertext>`; the key id is the first 8 bytes (hex) of the
// key's SHA-256, so it names the key without revealing it.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HubError } from '../errors.js';

export const ENC_PREFIX = 'enc:v1:';

export interface Key {
  id: string;
  key: Buffer;
}

export function keyId(key: Buffer): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 16);
}

/** A key from config: base64 of 32 bytes, `hex:` + 64 hex digits, or `file:PATH` holding either. */
export function parseKey(spec: string, where: string): Key {
  let text = spec.trim();
  if (text.startsWith('file:')) {
    try {
      text = readFileSync(text.slice(5), 'utf8').trim();
    } catch (e) {
      throw new HubError('config_invalid', `${where}: cannot read the key file ${text.slice(5)}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const key = text.startsWith('hex:') ? Buffer.from(text.slice(4), 'hex') : Buffer.from(text, 'base64');
  if (key.length !== 32) throw new HubError('config_invalid', `${where}: an encryption key is 32 bytes (base64, or hex:…); this one is ${key.length}`);
  return { id: keyId(key), key };
}

/** `openssl rand -base64 32` does the same. */
export function newKey(): string {
  return randomBytes(32).toString('base64');
}

export class Keyring {
  private readonly byId = new Map<string, Key>();

  constructor(
    private current: Key,
    older: Key[] = [],
  ) {
    for (const k of [current, ...older]) this.byId.set(k.id, k);
  }

  get currentId(): string {
    return this.current.id;
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** Makes `key` the one new values are written with (older keys still decrypt). */
  use(key: Key): void {
    this.byId.set(key.id, key);
    this.current = key;
  }

  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return `${ENC_PREFIX}${this.current.id}:${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
  }

  decrypt(value: string): string {
    if (!isEncrypted(value)) return value;
    const rest = value.slice(ENC_PREFIX.length);
    const colon = rest.indexOf(':');
    const id = rest.slice(0, colon);
    const k = this.byId.get(id);
    if (k === undefined) throw new HubError('store_unavailable', `a stored value is encrypted with key ${id}, which is not configured (security.encryptionKey / security.previousKeys)`);
    const raw = Buffer.from(rest.slice(colon + 1), 'base64');
    const d = createDecipheriv('aes-256-gcm', k.key, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }

  /** The key id a value is encrypted with, or null when it is plain. */
  static keyOf(value: string): string | null {
    if (!isEncrypted(value)) return null;
    const rest = value.slice(ENC_PREFIX.length);
    return rest.slice(0, rest.indexOf(':'));
  }
}

export function isEncrypted(value: string): boolean {
  return value.startsWith(ENC_PREFIX);
}
