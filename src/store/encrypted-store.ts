// Encryption at rest as a decorator over any Store: message subjects, bodies and metadata are
// encrypted before they reach the adapter and decrypted on the way out, so neither adapter (nor
// its search index, nor its WAL) ever holds their plaintext. Everything else passes through.
//
// Search: the adapters' indexes see only ciphertext, so with encryption on, a search decrypts the
// newest SEARCH_SCAN messages the caller may see and matches every word in memory (case and
// accents folded). Older messages are not found; docs/security.md says so.
import type { Message } from '../domain/message.js';
import { Keyring } from '../security/crypto.js';
import type { AppendRequest, AppendResult, DeadLetter, HistoryQuery, LeasedItem, Store } from './store.js';

export const SEARCH_SCAN = 10_000;
const META = '$enc';

function fold(s: string): string {
  return s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

export interface EncryptedStore extends Store {
  /** Re-encrypts every message not yet under the current key (plain ones too); returns counts. */
  reencrypt(onProgress?: (scanned: number, rewritten: number) => void): Promise<{ scanned: number; rewritten: number }>;
  readonly keyring: Keyring;
}

export function encryptedStore(inner: Store, keyring: Keyring): EncryptedStore {
  const seal = (m: Message): Message => ({
    ...m,
    subject: m.subject === '' ? '' : keyring.encrypt(m.subject),
    body: keyring.encrypt(m.body),
    metadata: Object.keys(m.metadata).length === 0 ? {} : { [META]: keyring.encrypt(JSON.stringify(m.metadata)) },
  });
  const open = (m: Message): Message => {
    const meta = m.metadata[META];
    return {
      ...m,
      subject: keyring.decrypt(m.subject),
      body: keyring.decrypt(m.body),
      metadata: typeof meta === 'string' && Object.keys(m.metadata).length === 1 ? (JSON.parse(keyring.decrypt(meta)) as Record<string, unknown>) : m.metadata,
    };
  };
  const openItem = <T extends { message: Message }>(i: T): T => ({ ...i, message: open(i.message) });
  const current = (m: Message): boolean => {
    const meta = m.metadata[META];
    const ids = [m.body, ...(m.subject === '' ? [] : [m.subject]), ...(typeof meta === 'string' ? [meta] : [])].map((v) => Keyring.keyOf(v));
    const metaPlain = Object.keys(m.metadata).length > 0 && typeof meta !== 'string';
    return !metaPlain && ids.every((id) => id === keyring.currentId);
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
    async deadLetters(agentId, limit): Promise<DeadLetter[]> {
      return (await inner.deadLetters(agentId, limit)).map((d) => ({ ...d, item: openItem(d.item) }));
    },
    async reencrypt(onProgress) {
      let after: string | null = null;
      let scanned = 0;
      let rewritten = 0;
      for (;;) {
        const batch = await inner.scanMessages(after, 500);
        if (batch.length === 0) break;
        for (const m of batch) {
          scanned += 1;
          if (current(m)) continue;
          const s = seal(open(m));
          await inner.rewriteMessageContent(m.id, { subject: s.subject, body: s.body, metadata: s.metadata });
          rewritten += 1;
        }
        after = batch[batch.length - 1]?.id ?? null;
        onProgress?.(scanned, rewritten);
      }
      return { scanned, rewritten };
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
