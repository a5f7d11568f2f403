// Encryption at rest as a decorator over any Store: message subjects, bodies and metadata are
// sealed before they reach the adapter and opened on the way out, so neither adapter (nor its
// search index, nor its WAL) ever holds their plaintext. Everything else passes through.
//
// Whether a message is sealed, and under which key, is the adapter's `sealed` column beside the
// content (sealing.ts), which no sender can write; it is never inferred from the text. Each value
// is AES-256-GCM with associated data naming its message and field (`placeOf`): a value copied to
// another message or field fails authentication (`integrity_failed`) instead of being read there.
// Rows from before the column (LEGACY_SEALED) are opened value by value: old-format text that
// authenticates under a configured key is ciphertext, anything else is what the sender wrote.
//
// Search: the adapters' indexes see only ciphertext, so with encryption on, a search opens the
// newest SEARCH_SCAN messages the caller may see and matches every word in memory (case and
// accents folded). Older messages are not found; docs/security.md says so.
import type { Message } from '../domain/message.js';
import { HubError } from '../errors.js';
import { type Keyring, parseLegacy } from '../security/crypto.js';
import { type KeyRotation, LEGACY_SEALED, type SealedContent, type StoredMessage } from './sealing.js';
import type { AppendRequest, AppendResult, DeadLetter, HistoryQuery, LeasedItem, Store, TargetRecord } from './store.js';

export const SEARCH_SCAN = 10_000;
/** Sealed metadata is stored as `{ "$enc": <sealed JSON text> }`. */
const META = '$enc';
/** Legacy messages examined at start (checkSealing). */
const LEGACY_SAMPLE = 100;

type Field = 'subject' | 'body' | 'metadata';

/** The associated data binding a target's sealed webhook secret to the target. */
export function secretPlace(targetId: string): string {
  return `swarm/target/${targetId}/secret`;
}

/** The associated data binding a sealed value to its place: the message and the field. */
export function placeOf(messageId: string, field: Field): string {
  return `swarm/message/${messageId}/${field}`;
}

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

function plainOf(m: StoredMessage): Message {
  if (m.sealed === undefined) return m;
  const { sealed: _sealed, ...rest } = m;
  return rest;
}

/** Seals a message's content under the keyring's current key, bound to its id. */
export function sealContent(keyring: Keyring, m: Message): SealedContent {
  return {
    id: m.id,
    subject: keyring.seal(m.subject, placeOf(m.id, 'subject')),
    body: keyring.seal(m.body, placeOf(m.id, 'body')),
    metadata: { [META]: keyring.seal(JSON.stringify(m.metadata), placeOf(m.id, 'metadata')) },
    sealed: keyring.currentId,
  };
}

/** The message as sent, from the message as stored. Throws integrity_failed, or store_unavailable for a key that is not configured. */
export function openContent(keyring: Keyring, m: StoredMessage): Message {
  const sealed = m.sealed;
  if (sealed === undefined) return m;
  if (sealed === LEGACY_SEALED) return openLegacy(keyring, m);
  const what = (f: Field): string => `the stored ${f} of message ${m.id}`;
  const meta = m.metadata[META];
  if (typeof meta !== 'string' || Object.keys(m.metadata).length !== 1) {
    throw new HubError('integrity_failed', `${what('metadata')} is not sealed, though the message is: it was altered`, { details: { key: sealed } });
  }
  return {
    ...plainOf(m),
    subject: keyring.open(m.subject, sealed, placeOf(m.id, 'subject'), what('subject')),
    body: keyring.open(m.body, sealed, placeOf(m.id, 'body'), what('body')),
    metadata: JSON.parse(keyring.open(meta, sealed, placeOf(m.id, 'metadata'), what('metadata'))) as Record<string, unknown>,
  };
}

/** A message from before `sealed` was recorded: each value is ciphertext only if it authenticates. */
function openLegacy(keyring: Keyring, m: StoredMessage): Message {
  const meta = m.metadata[META];
  const metaPlain = typeof meta === 'string' && Object.keys(m.metadata).length === 1 ? keyring.openLegacy(meta) : null;
  return {
    ...plainOf(m),
    subject: keyring.openLegacy(m.subject) ?? m.subject,
    body: keyring.openLegacy(m.body) ?? m.body,
    metadata: metaPlain === null ? m.metadata : (JSON.parse(metaPlain) as Record<string, unknown>),
  };
}

export interface EncryptedStore extends Store {
  readonly keyring: Keyring;
  /**
   * One batch of rotation `r` (which this process owns): scans up to `limit` messages after
   * `r.afterId`, re-seals those not under `r.key` (the keyring's current key), and saves them with
   * the rotation's progress in one transaction; with none left, marks it done. Returns the
   * rotation as saved, or null when it is no longer this owner's (nothing written).
   */
  reencryptBatch(r: KeyRotation, limit: number, now: number): Promise<KeyRotation | null>;
}

export function encryptedStore(inner: Store, keyring: Keyring): EncryptedStore {
  const seal = (m: Message): StoredMessage => {
    const c = sealContent(keyring, m);
    return { ...m, subject: c.subject, body: c.body, metadata: c.metadata, sealed: c.sealed as string };
  };
  const open = (m: StoredMessage): Message => openContent(keyring, m);
  const openItem = <T extends { message: Message }>(i: T): T => ({ ...i, message: open(i.message) });
  const openTarget = (t: TargetRecord): TargetRecord => {
    if (t.secretSealed === undefined) return t;
    const { secretSealed, ...rest } = t;
    return { ...rest, secret: keyring.open(t.secret, secretSealed, secretPlace(t.id), `the webhook secret of target ${t.id}`) };
  };

  const overrides: Partial<EncryptedStore> = {
    keyring,
    async appendMessage(req: AppendRequest): Promise<AppendResult> {
      const r = await inner.appendMessage({ ...req, message: seal(req.message) });
      return r.status === 'created' ? { ...r, message: req.message } : { ...r, message: open(r.message) };
    },
    async getMessage(id) {
      const m = await inner.getMessage(id);
      return m === null ? null : open(m);
    },
    async inbox(agentId, q) {
      return (await inner.inbox(agentId, q)).map(openItem);
    },
    async inboxItem(agentId, id) {
      const i = await inner.inboxItem(agentId, id);
      return i === null ? null : openItem(i);
    },
    async markRead(agentId, id, at) {
      const i = await inner.markRead(agentId, id, at);
      return i === null ? null : openItem(i);
    },
    async thread(threadId, viewer) {
      return (await inner.thread(threadId, viewer)).map(open);
    },
    async history(q: HistoryQuery) {
      if (q.search === undefined) return (await inner.history(q)).map(open);
      const words = fold(q.search).split(/\s+/).filter((w) => w !== '');
      const candidates = (await inner.history({ ...q, search: undefined, limit: SEARCH_SCAN })).map(open);
      return candidates.filter((m) => words.every((w) => fold(`${m.subject} ${m.body}`).includes(w))).slice(0, q.limit);
    },
    async lease(reqs, o) {
      const out = new Map<string, LeasedItem[]>();
      for (const [owner, items] of await inner.lease(reqs, o)) out.set(owner, items.map(openItem));
      return out;
    },
    async adoptLeases(agentId, owner, after, now) {
      return (await inner.adoptLeases(agentId, owner, after, now)).map(openItem);
    },
    async leaseTargetDeliveries(targetId, owner, limit, now, visibilityMs, maxAttempts) {
      return (await inner.leaseTargetDeliveries(targetId, owner, limit, now, visibilityMs, maxAttempts)).map(openItem);
    },
    // A webhook's signing secret is sealed like a body, bound to its target.
    async createTarget(t) {
      if (t.secret === '') return openTarget(await inner.createTarget(t));
      return openTarget(await inner.createTarget({ ...t, secret: keyring.seal(t.secret, secretPlace(t.id)), secretSealed: keyring.currentId }));
    },
    async getTarget(id) {
      const t = await inner.getTarget(id);
      return t === null ? null : openTarget(t);
    },
    async listTargets(agentId) {
      return (await inner.listTargets(agentId)).map(openTarget);
    },
    async deadLetters(agentId, limit): Promise<DeadLetter[]> {
      return (await inner.deadLetters(agentId, limit)).map((d) => ({ ...d, item: openItem(d.item) }));
    },
    async reencryptBatch(r, limit, now) {
      if (r.key !== keyring.currentId) throw new HubError('internal', `rotation ${r.id} is to key ${r.key}, but this process writes with ${keyring.currentId}`);
      const batch = await inner.scanMessages(r.afterId, limit);
      const last = batch[batch.length - 1];
      if (last === undefined) {
        // Webhook secrets of delivery targets go under the new key too, before the rotation is
        // done: afterwards the old key may be removed from the configuration.
        for (const t of await inner.listTargets(null)) {
          if (t.secret === '' || t.secretSealed === keyring.currentId) continue;
          await inner.storeTargetSecret(t.id, keyring.seal(openTarget(t).secret, secretPlace(t.id)), keyring.currentId);
        }
        const done: KeyRotation = { ...r, state: 'done', updatedAt: now, finishedAt: now };
        return (await inner.saveKeyRotation(done, r.owner, [])) ? done : null;
      }
      const contents: SealedContent[] = [];
      let skipped = 0;
      let firstSkip: string | null = null;
      for (const m of batch) {
        if (m.sealed === r.key) continue;
        let plain: Message;
        try {
          plain = open(m);
        } catch (e) {
          // A message that cannot be read stays as it is, counted; the rotation goes on.
          if (!(e instanceof HubError) || (e.code !== 'integrity_failed' && e.code !== 'store_unavailable')) throw e;
          skipped += 1;
          firstSkip ??= e.message;
          continue;
        }
        contents.push(sealContent(keyring, plain));
      }
      const next: KeyRotation = {
        ...r,
        afterId: last.id,
        scanned: r.scanned + batch.length,
        rewritten: r.rewritten + contents.length,
        skipped: r.skipped + skipped,
        updatedAt: now,
        error: r.error ?? (firstSkip === null ? null : `left as they are, unreadable: ${firstSkip}`),
      };
      return (await inner.saveKeyRotation(next, r.owner, contents)) ? next : null;
    },
  };
  return new Proxy(inner, {
    get(target, prop, receiver) {
      if (Object.hasOwn(overrides, prop)) return (overrides as Record<string | symbol, unknown>)[prop];
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  }) as EncryptedStore;
}

/**
 * At start: refuses (config_invalid) a store whose messages are sealed under a key this process
 * does not have, or at all when no key is configured: serving ciphertext as messages, or failing
 * every read, is worse than not starting. The store's `sealed` column says which keys; the text of
 * messages never does. Returns warnings about rows from before that column whose old-format
 * values name a key that is not configured (served as stored until it is).
 */
export async function checkSealing(store: Store, keyring: Keyring | null): Promise<string[]> {
  const { keys, legacy } = await store.sealingSample(LEGACY_SAMPLE);
  const rotation = await store.keyRotation();
  // A rotation that has rewritten messages: some are under its key, perhaps neither end.
  if (rotation?.state === 'running' && rotation.rewritten > 0) keys.push(rotation.key);
  for (const id of new Set(keys)) {
    if (keyring === null) throw new HubError('config_invalid', `the store holds messages encrypted with key ${id}, but no key is configured: set security.encryptionKey (SWARM_ENCRYPTION_KEY)`);
    if (!keyring.has(id)) {
      throw new HubError('config_invalid', `the store holds messages encrypted with key ${id}, which is not among the configured keys (${keyring.ids().join(', ')}): add it to security.previousKeys`);
    }
  }
  const unknown = new Set<string>();
  for (const m of legacy) {
    const meta = m.metadata[META];
    for (const v of [m.subject, m.body, typeof meta === 'string' ? meta : '']) {
      const id = parseLegacy(v)?.id;
      if (id !== undefined && keyring?.has(id) !== true) unknown.add(id);
    }
  }
  if (unknown.size === 0) return [];
  return [
    `messages stored before this version hold text in the old encrypted format (enc:v1:) naming key${unknown.size > 1 ? 's' : ''} ${[...unknown].join(', ')}, ` +
      `which ${keyring === null ? 'no configured key is (encryption at rest is off)' : 'is not configured'}: they are served as stored, as a sender's text in that shape is; ` +
      'if they were encrypted by this hub, add that key (security.encryptionKey or security.previousKeys) and restart',
  ];
}
