// Retention of messages (retention.messages, domain/retention.ts): walks the messages in seq order,
// a window at a time, and removes those whose time is up and whose every delivery is closed
// (acknowledged or expired; never an unread message, a dead letter or a message with a push
// still queued for a delivery target), in batches of retention.batch with a pause between them so
// that sends go on. With retention.archiveDir, each batch is appended to an archive file (fsynced)
// before it is removed. Run by the worker (or the embedded hub) every retention.intervalSeconds;
// `swarm retention run [--dry-run]` runs it now.
import { appendFileSync, closeSync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { DAY_MS, expired, parseRetention, ruleFor, shortestDays } from '../domain/retention.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { type Audit, by } from './audit.js';

/** Seqs read per candidates query (a query runs on the event loop too, on SQLite). */
const WINDOW = 250;
/** Least pause between removed batches... */
const PAUSE_MS = 20;
/**
 * ... and at least this many times the batch took: on SQLite a batch runs on the event loop (the
 * hub's own connection) and holds the write lock the writer thread's group commits need, so
 * retention keeps both a twentieth of the time at most. Measured (docs/benchmarks.md,
 * "Retention"): batches of 500 with a fixed 10 ms pause took sends' p99 under load from 20 to
 * 62 ms; a fifth of the time, from 12 to 22 ms.
 */
const PAUSE_FACTOR = 20;

export interface RetentionReport {
  dryRun: boolean;
  /** The rules as given (retention.messages). */
  rules: string;
  /** Messages looked at (old enough for the shortest rule, every delivery closed). */
  examined: number;
  /** Removed, or that would be (dry run). */
  removed: number;
  /** By what removed them: `*`, a type, or `#channel`. */
  byRule: Record<string, number>;
  /** Creation time of the newest message removed. */
  newestRemovedAt: number | null;
  archive: string | null;
  /** Audit records removed (or that would be), retention.auditDays. */
  auditRemoved: number;
  ms: number;
}

export interface RetentionSettings {
  rules: () => string;
  /** Days audit records are kept; 0: forever. */
  auditDays: () => number;
  batch: () => number;
  archiveDir: () => string;
}

export class Retention {
  private running: Promise<RetentionReport> | null = null;

  constructor(
    private readonly store: Store,
    private readonly now: () => number,
    private readonly settings: RetentionSettings,
    private readonly audit: Audit,
  ) {}

  /** Runs retention for a caller (admins: `retention.run`). One removing run at a time per process: a second call gets the first's report. */
  async runFor(actor: Actor, o: { dryRun: boolean }): Promise<RetentionReport> {
    authorize(actor, 'retention.run', 'run retention');
    const r = await this.run(o);
    if (!o.dryRun) await this.audit.record({ ...by(actor), action: 'retention.run', detail: { ...by(actor).detail, removed: r.removed, rules: r.rules } });
    return r;
  }

  /** The scheduled run (the worker, the embedded hub). A dry run reads only and runs beside it. */
  run(o: { dryRun: boolean }): Promise<RetentionReport> {
    if (o.dryRun) return this.pass(o);
    if (this.running !== null) return this.running;
    this.running = this.pass(o).finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private async pass(o: { dryRun: boolean }): Promise<RetentionReport> {
    const started = performance.now();
    const text = this.settings.rules();
    const rules = parseRetention(text);
    const report: RetentionReport = { dryRun: o.dryRun, rules: text, examined: 0, removed: 0, byRule: {}, newestRemovedAt: null, archive: null, auditRemoved: 0, ms: 0 };
    const now = this.now();
    report.auditRemoved = await this.trimAudit(now, o.dryRun);
    const shortest = shortestDays(rules);
    if (shortest === null) return { ...report, ms: performance.now() - started };
    const before = now - shortest * DAY_MS;
    const batch = this.settings.batch();
    let pending: { seq: number; line: string; createdAt: number; rule: string }[] = [];
    const flush = async (): Promise<void> => {
      if (pending.length === 0) return;
      const chunk = pending;
      pending = [];
      if (!o.dryRun) {
        const dir = this.settings.archiveDir();
        if (dir !== '') report.archive = this.archive(dir, chunk.map((c) => c.line), now);
        const t0 = performance.now();
        const removed = await this.store.deleteMessages(chunk.map((c) => c.seq));
        report.removed += removed;
        await new Promise((r) => setTimeout(r, Math.max(PAUSE_MS, (performance.now() - t0) * PAUSE_FACTOR)));
      } else report.removed += chunk.length;
      for (const c of chunk) {
        report.byRule[c.rule] = (report.byRule[c.rule] ?? 0) + 1;
        report.newestRemovedAt = Math.max(report.newestRemovedAt ?? 0, c.createdAt);
      }
    };
    let cursor = 0;
    for (;;) {
      const next = await this.store.nextMessageAfter(cursor);
      if (next === null || next.createdAt >= before) break;
      cursor = next.seq - 1;
      const t0 = performance.now();
      const candidates = await this.store.retentionCandidates(cursor, WINDOW, before);
      cursor += WINDOW;
      await new Promise((r) => setTimeout(r, (performance.now() - t0) * PAUSE_FACTOR));
      for (const c of candidates) {
        report.examined += 1;
        const m = { type: c.message.type, channels: c.channels, createdAt: c.message.createdAt };
        if (!expired(rules, m, now)) continue;
        pending.push({ seq: c.seq, line: JSON.stringify({ ...c.message, channels: c.channels }), createdAt: c.message.createdAt, rule: ruleFor(rules, m).selector });
        if (pending.length >= batch) await flush();
      }
    }
    await flush();
    return { ...report, ms: performance.now() - started };
  }

  /**
   * Audit records older than retention.auditDays go in batches; the last one removed becomes the
   * checkpoint `audit verify` proves the rest from. A dry run counts them.
   */
  private async trimAudit(now: number, dryRun: boolean): Promise<number> {
    const days = this.settings.auditDays();
    if (days <= 0) return 0;
    const before = now - days * DAY_MS;
    let n = 0;
    if (dryRun) {
      let after = (await this.store.auditCheckpoint())?.seq ?? 0;
      for (;;) {
        const page = await this.store.auditChain(after, 1000);
        const old = page.filter((r) => r.at < before);
        // The newest record always stays (the next one chains onto it).
        n += page.length < 1000 && old.length === page.length ? Math.max(old.length - 1, 0) : old.length;
        const last = page.at(-1);
        if (page.length < 1000 || last === undefined || old.length < page.length) return n;
        after = last.seq;
      }
    }
    for (;;) {
      const t0 = performance.now();
      const removed = await this.store.trimAudit(before, this.settings.batch(), now);
      n += removed;
      if (removed === 0) return n;
      await new Promise((r) => setTimeout(r, Math.max(PAUSE_MS, (performance.now() - t0) * PAUSE_FACTOR)));
    }
  }

  /** Appends the lines to the day's archive file and fsyncs it; returns the file. */
  private archive(dir: string, lines: string[], now: number): string {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `messages-${new Date(now).toISOString().slice(0, 10)}.ndjson`);
    const fd = openSync(file, 'a', 0o600);
    try {
      appendFileSync(fd, `${lines.join('\n')}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return file;
  }
}
