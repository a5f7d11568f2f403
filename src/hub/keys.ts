// Encryption keys: which are in use, and key rotation as a background job. A rotation switches
// the hub to a new key (or keeps the current one) and re-encrypts every stored message under it,
// a batch per transaction that commits with the rotation's progress, pausing between batches so
// that sends and acks go on. One runs at a time (the store refuses a second); its progress is
// readable while it runs; after a restart it resumes after the last message it committed.
//
// Ownership: a rotation belongs to the process running it (a random owner id). On the embedded
// store, the one process resumes whatever was running when it stopped. On a shared database, a
// process resumes a rotation released by a clean stop, or one whose owner has been silent for
// about STALE_MS (it died), provided it writes with that rotation's key.
import { randomBytes } from 'node:crypto';
import { newId } from '../domain/ids.js';
import { HubError } from '../errors.js';
import { type Key, parseKey } from '../security/crypto.js';
import type { EncryptedStore } from '../store/encrypted-store.js';
import { type KeyRotation, runningError } from '../store/sealing.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type AuditSink, by, noAudit } from './audit.js';

/**
 * A running rotation not updated for this long (plus three pauses) has lost its process: each
 * batch updates it. Taking over one whose process is only slow is safe: its next batch finds the
 * rotation no longer its own and writes nothing (saveKeyRotation checks the owner).
 */
export const STALE_MS = 10_000;
/** On a shared database: how often a process looks for a rotation to take over. */
const ADOPT_MS = 5_000;

export interface RotationPace {
  /** Messages per batch (one transaction). */
  batch: number;
  /** Pause between batches. */
  pauseMs: number;
}

export interface KeysStatus {
  enabled: boolean;
  current: string | null;
  keys: string[];
  rotation: KeyRotation | null;
}

export class Keys {
  /** This process, as the owner of the rotation it runs. */
  private readonly owner = `p-${randomBytes(8).toString('hex')}`;
  private running: Promise<void> | null = null;
  private resuming: Promise<void> = Promise.resolve();
  private stopping = false;
  private wake: (() => void) | null = null;
  private adopter: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number = Date.now,
    private readonly pace: () => RotationPace = () => ({ batch: 500, pauseMs: 10 }),
    private readonly onError: (e: unknown) => void = () => undefined,
    /** Rotations are security-relevant acts. */
    private readonly audit: AuditSink = noAudit,
  ) {}

  /** Whether this process runs a key rotation now (swarm_key_rotation_running). */
  get rotating(): boolean {
    return this.running !== null;
  }

  private sealing(): EncryptedStore | null {
    const s = this.store as Partial<EncryptedStore>;
    return s.reencryptBatch === undefined || s.keyring === undefined ? null : (s as EncryptedStore);
  }

  private encrypted(): EncryptedStore {
    const s = this.sealing();
    if (s === null) throw new HubError('validation_failed', 'encryption at rest is off: set security.encryptionKey (SWARM_ENCRYPTION_KEY) and restart the hub first');
    return s;
  }

  async status(actor: Actor): Promise<KeysStatus> {
    authorize(actor, 'keys.manage', 'see the encryption keys');
    const s = this.sealing();
    const rotation = await this.store.keyRotation();
    return s === null ? { enabled: false, current: null, keys: [], rotation } : { enabled: true, current: s.keyring.currentId, keys: s.keyring.ids(), rotation };
  }

  /** The newest rotation, running or finished. */
  async rotation(actor: Actor): Promise<KeyRotation> {
    authorize(actor, 'keys.manage', 'see the key rotation');
    const r = await this.store.keyRotation();
    if (r === null) throw new HubError('not_found', 'no key rotation was ever started (swarm keys rotate)');
    return r;
  }

  /**
   * Starts a rotation and returns it at once, running. With a new key: the hub writes with it from
   * now on, and every message is re-encrypted under it. Without: every message not yet under the
   * current key is (after a rotation that stopped, or encryption turned on for older messages).
   */
  async rotate(actor: Actor, newKey?: string): Promise<KeyRotation> {
    authorize(actor, 'keys.manage', 'rotate the encryption key');
    const s = this.encrypted();
    let key: Key | null = null;
    if (newKey !== undefined) {
      // file:PATH names a file on the hub's host: a config form, not for a request (it would let a
      // caller probe the host's files). The CLI reads --key-file itself and sends the key.
      if (newKey.startsWith('file:')) throw new HubError('validation_failed', 'the new key must be sent as base64 or hex:…, not file:PATH (the CLI reads --key-file and sends the key)');
      try {
        key = parseKey(newKey, 'the new key');
      } catch (e) {
        // A bad key in a request is the caller's mistake (400), not the hub's configuration.
        throw new HubError('validation_failed', (e as Error).message);
      }
    }
    const previous = s.keyring.currentId;
    const target = key?.id ?? previous;
    const b = by(actor);
    const now = this.now();
    let job: KeyRotation;
    try {
      const current = await this.store.keyRotation();
      if (current?.state === 'running' && !this.abandoned(current)) throw runningError(current.id);
      const replacing = current?.state === 'running' ? current.id : null;
      job = await this.store.beginKeyRotation(
        { id: newId(now), key: target, previous, state: 'running', owner: this.owner, afterId: '', scanned: 0, rewritten: 0, skipped: 0, startedBy: actor.principal.id, startedAt: now, updatedAt: now, finishedAt: null, error: null },
        replacing,
      );
    } catch (e) {
      const refused = e instanceof HubError && e.code === 'rotation_running';
      await this.audit.record({ ...b, action: 'keys.rotate', target, outcome: refused ? 'denied' : 'failed', detail: { ...b.detail, previous, error: (e as Error).message } });
      throw e;
    }
    if (key !== null) s.keyring.use(key);
    // Key ids only: they name keys without revealing them.
    await this.audit.record({ ...b, action: 'keys.rotate', target, detail: { ...b.detail, previous, rotation: job.id, total: job.total } });
    this.spawn(job);
    return job;
  }

  /** A running rotation whose process is gone (or that this process no longer runs). */
  private abandoned(r: KeyRotation): boolean {
    if (r.owner === this.owner) return this.running === null;
    return !this.store.shared || r.owner === '' || r.updatedAt < this.now() - STALE_MS - 3 * this.pace().pauseMs;
  }

  /** At start: resumes a rotation left running; on a shared database, also looks again now and then. */
  start(): void {
    this.stopping = false;
    const look = (): void => {
      this.resuming = this.resuming.then(() => this.resume()).catch((e: unknown) => this.onError(e));
    };
    look();
    // Another process's rotation can be adopted only by a process that holds the keys.
    if (this.store.shared && this.adopter === null && this.sealing() !== null) {
      this.adopter = setInterval(look, ADOPT_MS);
      this.adopter.unref();
    }
  }

  /** Takes over and continues a rotation left running, if this process may (see the top of this file). */
  async resume(): Promise<void> {
    if (this.running !== null || this.stopping) return;
    const job = await this.store.keyRotation();
    if (job?.state !== 'running' || !this.abandoned(job)) return;
    const s = this.sealing();
    const now = this.now();
    if (s === null) {
      // Only here can it never finish: on a shared database another process may have the keys.
      if (!this.store.shared) await this.store.saveKeyRotation({ ...job, state: 'failed', updatedAt: now, finishedAt: now, error: 'encryption at rest is off in the process that was to resume it' }, job.owner, []);
      return;
    }
    let claimed: KeyRotation;
    if (job.key === s.keyring.currentId) claimed = { ...job, owner: this.owner, updatedAt: now };
    else if (!this.store.shared) {
      // Restarted with another current key: the rotation brings every message under that one, from the start.
      claimed = { ...job, key: s.keyring.currentId, owner: this.owner, afterId: '', scanned: 0, rewritten: 0, skipped: 0, updatedAt: now, error: null };
    } else return;
    if (!(await this.store.saveKeyRotation(claimed, job.owner, []))) return;
    this.spawn(claimed);
  }

  private spawn(job: KeyRotation): void {
    // Cleared only by its own run: a rotation started while the last one writes its audit record
    // must not lose its `running` (abandoned() would call it dead, resume() would run it twice).
    const p: Promise<void> = this.run(job).finally(() => {
      if (this.running === p) this.running = null;
    });
    this.running = p;
  }

  private async run(start: KeyRotation): Promise<void> {
    const s = this.encrypted();
    let job = start;
    try {
      while (!this.stopping) {
        const { batch, pauseMs } = this.pace();
        const next = await s.reencryptBatch(job, batch, this.now());
        if (next === null) return; // taken over by another process
        job = next;
        if (job.state !== 'running') break;
        if (pauseMs > 0) await this.pause(pauseMs);
      }
      if (job.state === 'running') {
        // Stopping: released, so that the next process to start resumes it at once.
        await this.store.saveKeyRotation({ ...job, owner: '', updatedAt: this.now() }, job.owner, []);
        return;
      }
      await this.audit.record({ actor: 'hub', action: 'keys.rotated', target: job.key, detail: this.summary(job) });
    } catch (e) {
      this.onError(e);
      const now = this.now();
      const failed: KeyRotation = { ...job, state: 'failed', updatedAt: now, finishedAt: now, error: (e as Error).message };
      try {
        await this.store.saveKeyRotation(failed, job.owner, []);
      } catch (again) {
        this.onError(again); // still running in the store: resumed at the next start
      }
      await this.audit.record({ actor: 'hub', action: 'keys.rotated', target: job.key, outcome: 'failed', detail: { ...this.summary(job), error: failed.error } });
    }
  }

  private summary(r: KeyRotation): Record<string, unknown> {
    return { rotation: r.id, previous: r.previous, scanned: r.scanned, rewritten: r.rewritten, skipped: r.skipped };
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** Stops after the batch in flight; a rotation still running is released for the next start. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.adopter !== null) clearInterval(this.adopter);
    this.adopter = null;
    this.wake?.();
    await this.resuming;
    await this.running;
  }
}
