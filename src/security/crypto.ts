// Encryption at rest: AES-256-GCM with a random 96-bit IV per value, under keys named by id (the
// first 8 bytes, hex, of the key's SHA-256: it names a key without revealing it).
//
// A sealed value is base64(iv | tag | ciphertext), bound to its place by associated data that the
// caller gives (the store's decorator: the message id and the field): moved to another place, it
// fails authentication. Neither whether a value is sealed nor under which key is read from the
// value: the store records both beside it, where no sender can write (src/store/encrypted-store.ts).
//
// Values written before that (`enc:v1:<key id>:<base64>`, no associated data) are still read, for
// migration only: `openLegacy` returns the plaintext when the text authenticates under the
// configured key it names, and null otherwise (it is then text that merely looks like ciphertext).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HubError } from '../errors.js';

/** The old format's prefix (read for migration, never written). */
export const LEGACY_PREFIX = 'enc:v1:';

const IV_BYTES = 12;
const TAG_BYTES = 16;

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

/** AES-256-GCM decryption of iv|tag|ciphertext; null when it does not authenticate. */
function decrypt(key: Buffer, raw: Buffer, aad: string | null): string | null {
  if (raw.length < IV_BYTES + TAG_BYTES) return null;
  try {
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    d.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    if (aad !== null) d.setAAD(Buffer.from(aad, 'utf8'));
    return Buffer.concat([d.update(raw.subarray(IV_BYTES + TAG_BYTES)), d.final()]).toString('utf8');
  } catch {
    return null;
  }
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

  has(id: string): boolean {
    return this.byId.has(id);
  }

  /** Makes `key` the one new values are written with (older keys still decrypt). */
  use(key: Key): void {
    this.byId.set(key.id, key);
    this.current = key;
  }

  /** Seals under the current key (`currentId`), bound to `aad`. */
  seal(plain: string, aad: string): string {
    const iv = randomBytes(IV_BYTES);
    const c = createCipheriv('aes-256-gcm', this.current.key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
  }

  /**
   * Opens a value sealed under key `id` for the place `aad`. A key that is not configured is
   * `store_unavailable`; a value that does not authenticate (altered, or sealed for another place)
   * is `integrity_failed`. `what` names the place in the error.
   */
  open(value: string, id: string, aad: string, what: string): string {
    const k = this.byId.get(id);
    if (k === undefined) throw new HubError('store_unavailable', `${what} is encrypted with key ${id}, which is not configured (security.encryptionKey / security.previousKeys)`);
    const plain = decrypt(k.key, Buffer.from(value, 'base64'), aad);
    if (plain === null) {
      throw new HubError('integrity_failed', `${what} fails authentication under key ${id}: it was altered, or moved from another message or field`, { details: { key: id } });
    }
    return plain;
  }

  /** The plaintext of an old-format value that authenticates under the configured key it names; null otherwise. */
  openLegacy(text: string): string | null {
    const parsed = parseLegacy(text);
    if (parsed === null) return null;
    const k = this.byId.get(parsed.id);
    return k === undefined ? null : decrypt(k.key, parsed.raw, null);
  }
}

/** The key id and bytes of text in the old format's shape (which user text may have too), or null. */
export function parseLegacy(text: string): { id: string; raw: Buffer } | null {
  const m = /^enc:v1:([0-9a-f]{16}):([A-Za-z0-9+/]*={0,2})$/.exec(text);
  return m === null ? null : { id: m[1] as string, raw: Buffer.from(m[2] as string, 'base64') };
}
