// Key rotation: new values are written under a new key and every stored message is re-encrypted
// under it while the hub serves (older keys keep decrypting what is not yet rewritten).
import { HubError } from '../errors.js';
import { parseKey } from '../security/crypto.js';
import type { EncryptedStore } from '../store/encrypted-store.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';

export class Keys {
  constructor(private readonly store: Store) {}

  private encrypted(): EncryptedStore {
    const s = this.store as Partial<EncryptedStore>;
    if (s.reencrypt === undefined || s.keyring === undefined) {
      throw new HubError('validation_failed', 'encryption at rest is off: set security.encryptionKey (SWARM_ENCRYPTION_KEY) and restart the hub first');
    }
    return s as EncryptedStore;
  }

  status(actor: Actor): { enabled: boolean; current: string | null; keys: string[] } {
    authorize(actor, 'keys.manage', 'see the encryption keys');
    const s = this.store as Partial<EncryptedStore>;
    return s.keyring === undefined ? { enabled: false, current: null, keys: [] } : { enabled: true, current: s.keyring.currentId, keys: s.keyring.ids() };
  }

  /** With a new key: switch to it, then re-encrypt everything under it. Without: finish re-encrypting under the current one. */
  async rotate(actor: Actor, newKey?: string): Promise<{ key: string; previous: string; scanned: number; rewritten: number }> {
    authorize(actor, 'keys.manage', 'rotate the encryption key');
    const s = this.encrypted();
    const previous = s.keyring.currentId;
    if (newKey !== undefined) s.keyring.use(parseKey(newKey, 'the new key'));
    const r = await s.reencrypt();
    return { key: s.keyring.currentId, previous, ...r };
  }
}
