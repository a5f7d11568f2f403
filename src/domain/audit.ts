// The audit chain: records of security-relevant acts, each holding the hash of the one before, so
// that editing, deleting or reordering stored records is detectable. This module holds what the
// store (append) and the hub (verify) must agree on: the canonical encoding, the hash, and the
// check of a chain read in seq order. No I/O.
import { createHash } from 'node:crypto';

export const AUDIT_OUTCOMES = ['ok', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface NewAuditRecord {
  at: number;
  /** Who acted: an agent id, or `anonymous` for a caller who could not authenticate, `hub` for the hub itself. */
  actor: string;
  /** What was done: `auth.failed`, `act.as`, `agent.register`, `config.set`, ... (docs/security.md). */
  action: string;
  /** What it was done to ('' when nothing in particular). */
  target: string;
  requestId: string | null;
  outcome: AuditOutcome;
  detail: Record<string, unknown>;
}

export interface AuditRecord extends NewAuditRecord {
  /** 1, 2, 3, ... without gaps: a missing number is a deleted record. */
  seq: number;
  /** Hash of the record before (GENESIS_HASH for the first). */
  prevHash: string;
  hash: string;
}

/** The previous hash of the first record. */
export const GENESIS_HASH = '0'.repeat(64);

/** Bumped if the encoding ever changes, so that old and new chains cannot be confused. */
const ENCODING = 'swarm-audit-v1';

/** JSON with object keys sorted at every level: one text per value, whatever the key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

/**
 * SHA-256 (hex) over a JSON array of every field but the hash itself. A JSON array keeps the
 * fields apart unambiguously (no separator can be forged inside a value).
 */
export function auditHash(r: Omit<AuditRecord, 'hash'>): string {
  const fields = [ENCODING, r.seq, r.at, r.actor, r.action, r.target, r.requestId, r.outcome, canonicalJson(r.detail), r.prevHash];
  return createHash('sha256').update(JSON.stringify(fields), 'utf8').digest('hex');
}

/** The record that follows `last` (null: the chain is empty). */
export function chainNext(last: Pick<AuditRecord, 'seq' | 'at' | 'hash'> | null, r: NewAuditRecord): AuditRecord {
  const body = {
    ...r,
    seq: (last?.seq ?? 0) + 1,
    // Times never go backwards along the chain (clocks of several processes differ a little), so
    // that a record dated before its predecessor is a sign of tampering.
    at: Math.max(r.at, last?.at ?? 0),
    prevHash: last?.hash ?? GENESIS_HASH,
  };
  return { ...body, hash: auditHash(body) };
}

export type AuditProblemKind = 'edited' | 'reordered' | 'missing' | 'broken_link' | 'time_order' | 'anchor';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** The record the problem is found at (for `missing`: the first record after the hole; 0 when at the end). */
  seq: number;
  /** `missing`: the absent seq numbers; `reordered`: [the seq the record was written with]. */
  seqs?: number[];
  message: string;
}

export interface ChainReport {
  ok: boolean;
  records: number;
  /** The last record: anchor it elsewhere to detect a later rewrite or truncation. */
  head: { seq: number; hash: string; at: number } | null;
  problems: AuditProblem[];
  /** Problems found, including any beyond those listed. */
  problemCount: number;
  /** Records up to this seq were removed by retention (retention.auditDays); 0: the chain is whole. */
  startsAfter: number;
}

/** An earlier head kept elsewhere: the chain must still hold that record with that hash. */
export interface AuditAnchor {
  seq: number;
  hash: string;
}

const MAX_LISTED = 1000;
const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const span = (s: number[]): string => (s.length === 1 ? `record ${s[0]} is` : `records ${s[0]}–${s[s.length - 1]} (${s.length}) are`);

/**
 * Checks a chain read twice in seq order: `index` every record (first pass), then `check` every
 * record (second pass), then `report`. Two passes because telling a moved record from an edited
 * one needs the stored hashes of records later in the chain; the memory kept is one short key
 * per record, not the records.
 */
export class ChainCheck {
  /** Hash prefix -> the seq holding that stored hash. */
  private readonly bySeqHash = new Map<string, number>();
  /** Records whose content does not match their hash: seq -> their prev_hash. */
  private readonly mismatched = new Map<number, string>();
  private readonly written = new Map<number, number | null>();
  private prev: AuditRecord | null = null;
  private prevMoved = false;
  private count = 0;
  private anchorSeen = false;
  private readonly problems: AuditProblem[] = [];
  private problemCount = 0;

  /**
   * `start`: where the chain begins once retention removed its oldest records (the last one
   * removed): the first record kept must follow it.
   */
  constructor(
    private readonly anchor: AuditAnchor | null = null,
    private readonly start: { seq: number; hash: string; at: number } | null = null,
  ) {
    if (start !== null) this.prev = { seq: start.seq, hash: start.hash, at: start.at, prevHash: '', actor: '', action: '', target: '', requestId: null, outcome: 'ok', detail: {} };
  }

  index(r: AuditRecord): void {
    this.bySeqHash.set(r.hash.slice(0, 20), r.seq);
    if (auditHash(r) !== r.hash) this.mismatched.set(r.seq, r.prevHash);
  }

  /** The seq a record was written with, judged by what its prev_hash points at; null if unknown. */
  private writtenAs(seq: number, depth = 0): number | null {
    if (!this.mismatched.has(seq)) return seq;
    if (this.written.has(seq)) return this.written.get(seq) ?? null;
    let out: number | null = null;
    const prevHash = this.mismatched.get(seq) ?? '';
    if (prevHash === GENESIS_HASH) out = 1;
    else {
      const before = this.bySeqHash.get(prevHash.slice(0, 20));
      const w = before === undefined || depth > 1000 ? null : this.writtenAs(before, depth + 1);
      out = w === null ? null : w + 1;
    }
    this.written.set(seq, out);
    return out;
  }

  private add(p: AuditProblem): void {
    this.problemCount += 1;
    if (this.problems.length < MAX_LISTED) this.problems.push(p);
  }

  check(r: AuditRecord): void {
    this.count += 1;
    const prev = this.prev;
    let moved = false;
    if (this.mismatched.has(r.seq)) {
      const w = this.writtenAs(r.seq);
      if (w !== null && w !== r.seq && auditHash({ ...r, seq: w }) === r.hash) {
        moved = true;
        this.add({ kind: 'reordered', seq: r.seq, seqs: [w], message: `record ${r.seq} holds the record written as ${w}: records were reordered` });
      } else {
        this.add({ kind: 'edited', seq: r.seq, message: `record ${r.seq} was edited: its content (${r.action} by ${r.actor}) no longer matches its hash` });
      }
    }
    const expectedSeq = (prev?.seq ?? 0) + 1;
    const gap = r.seq > expectedSeq;
    if (gap) {
      const missing = range(expectedSeq, r.seq - 1);
      this.add({
        kind: 'missing',
        seq: r.seq,
        seqs: missing,
        message: `${span(missing)} missing (deleted)${prev === null ? ' before' : ` between ${prev.seq} and`} ${r.seq}`,
      });
    }
    const expectedPrev = prev?.hash ?? GENESIS_HASH;
    // A hole or a moved record already explains a broken link; anything else is reported as such.
    if (r.prevHash !== expectedPrev && !gap && !moved && !this.prevMoved) {
      this.add({
        kind: 'broken_link',
        seq: r.seq,
        message:
          prev === null
            ? `record ${r.seq} should start the chain but points to an earlier record: records before it were deleted`
            : `record ${r.seq} does not follow record ${prev.seq} (its previous hash is not ${prev.seq}'s hash): record ${prev.seq} was rewritten with a new hash, or records between them were deleted and the rest renumbered`,
      });
    }
    if (prev !== null && r.at < prev.at && !moved && !this.prevMoved) {
      this.add({ kind: 'time_order', seq: r.seq, message: `record ${r.seq} is dated before record ${prev.seq}: records were reordered or a time was changed` });
    }
    if (this.anchor !== null && r.seq === this.anchor.seq) {
      this.anchorSeen = true;
      if (r.hash !== this.anchor.hash) this.add({ kind: 'anchor', seq: r.seq, message: `record ${r.seq} is not the anchored one: its hash is ${r.hash}, the anchor says ${this.anchor.hash}` });
    }
    this.prev = r;
    this.prevMoved = moved;
  }

  report(): ChainReport {
    if (this.anchor !== null && !this.anchorSeen) {
      this.add({
        kind: 'anchor',
        seq: this.anchor.seq,
        message:
          (this.prev?.seq ?? 0) < this.anchor.seq
            ? `the anchored record ${this.anchor.seq} is gone: the chain ends at ${this.prev?.seq ?? 0} (records were deleted from the end)`
            : `the anchored record ${this.anchor.seq} is gone (deleted)`,
      });
    }
    const head = this.prev === null || this.count === 0 ? (this.start === null ? null : { seq: this.start.seq, hash: this.start.hash, at: this.start.at }) : { seq: this.prev.seq, hash: this.prev.hash, at: this.prev.at };
    return { ok: this.problemCount === 0, records: this.count, head, problems: this.problems, problemCount: this.problemCount, startsAfter: this.start?.seq ?? 0 };
  }
}
