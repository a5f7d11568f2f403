// Work that must happen once (the sweeps) runs in the one process that holds a session-level
// advisory lock, on a connection of its own straight to PostgreSQL (store.sessionDatabase: a
// transaction-mode pooler cannot hold a session lock). Any number of workers try; one leads. When
// the leader dies its connection closes, PostgreSQL frees the lock, and the next try of another
// worker takes it: fail-over within one sweep interval plus the time PostgreSQL needs to notice a
// dead connection (at once for a killed process; TCP keepalive for a vanished host).
import pg from 'pg';

/** application_name of the lock connections. */
export const LOCK_APPLICATION = 'swarm sweep lock';

export class Leadership {
  private client: pg.Client | null = null;
  private held = false;
  private closed = false;
  private trying: Promise<boolean> | null = null;

  constructor(
    private readonly url: string,
    /** The lock's name; one lock per schema and role of work. */
    private readonly name: string,
  ) {}

  /**
   * True while this process holds the lock (its session answers), otherwise tries to take it: one
   * round trip either way, once per sweep.
   */
  lead(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    this.trying ??= this.tryLock().finally(() => {
      this.trying = null;
    });
    return this.trying;
  }

  private async tryLock(): Promise<boolean> {
    try {
      if (this.client === null) {
        // Named, so that pg_stat_activity (and a connection budget) can tell it from the pool's.
        const c = new pg.Client({ connectionString: this.url, connectionTimeoutMillis: 5000, keepAlive: true, application_name: LOCK_APPLICATION });
        c.on('error', () => this.lost(c));
        c.on('end', () => this.lost(c));
        await c.connect();
        if (this.closed) {
          await c.end().catch(() => undefined);
          return false;
        }
        this.client = c;
      }
      if (this.held) {
        // Session locks stack: taking it again would need as many unlocks. Just check the session.
        await this.client.query('SELECT 1');
        return true;
      }
      const r = await this.client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS ok', [this.name]);
      this.held = r.rows[0]?.ok === true;
      return this.held;
    } catch {
      const c = this.client;
      if (c !== null) this.lost(c);
      return false;
    }
  }

  private lost(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = null;
    this.held = false;
    void c.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.held = false;
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }
}
