// Key rotation: new values are written under a new key and every stored message is re-encrypted
// under it while the hub serves (older keys keep decrypting what is not yet rewritten).
import { HubError } from '../errors.js';
import { parseKey } from '../security/crypto.js';
import type { EncryptedStore } from '../store/encrypted-store.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AuditSink, by, noAudit } from './audit.js';

export class Keys {
  /** Set by the hub: rotations are security-relevant acts. */
  audit: AuditSink = noAudit;

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
    if (newKey !== undefined) {
      let key;
      try {
        key = parseKey(newKey, 'the new key');
      } catch (e) {
        // A bad key in a request is the caller's mistake (400), not the hub's configuration.
        throw new HubError('validation_failed', (e as Error).message);
      }
      s.keyring.use(key);
    }
    const b = by(actor);
    try {
      const r = await s.reencrypt();
      // Key ids only: they name keys without revealing them.
      await this.audit.record({ ...b, action: 'keys.rotate', target: s.keyring.currentId, detail: { ...b.detail, previous, ...r } });
      return { key: s.keyring.currentId, previous, ...r };
    } catch (e) {
      await this.audit.record({ ...b, action: 'keys.rotate', target: s.keyring.currentId, outcome: 'failed', detail: { ...b.detail, previous, error: (e as Error).message } });
      throw e;
    }
  }
}
