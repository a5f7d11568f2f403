// In-process wake-ups for long-polling inbox reads: a send notifies each recipient after its
// commit, and a waiting `inbox --wait` reads again. (Streams and cross-process fan-out build on
// this in later issues.)
export class InboxSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Set at shutdown: waits end at once, so long-polls answer and the server can close. */
  closed = false;
  private readonly listeners: ((agentIds: string[]) => void)[] = [];

  /** Also tell `fn` of every notify (the stream dispatcher). */
  listen(fn: (agentIds: string[]) => void): void {
    this.listeners.push(fn);
  }

  notify(agentIds: Iterable<string>): void {
    const ids = [...agentIds];
    for (const fn of this.listeners) fn(ids);
    for (const id of ids) {
      const set = this.waiters.get(id);
      if (set === undefined) continue;
      this.waiters.delete(id);
      for (const wake of set) wake();
    }
  }

  /** Resolves on the next notify for the agent, after `ms`, or when `signal` aborts. */
  wait(agentId: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      let set = this.waiters.get(agentId);
      if (set === undefined) this.waiters.set(agentId, (set = new Set()));
      const done = (): void => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', done);
        this.waiters.get(agentId)?.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      signal?.addEventListener('abort', done, { once: true });
      set.add(done);
    });
  }

  /** Wakes every waiter (another process may have sent to any of them). */
  notifyAll(): void {
    this.notify([...this.waiters.keys()]);
  }

  /** Shutdown: wakes every waiter and makes later waits return at once. */
  close(): void {
    this.closed = true;
    for (const id of [...this.waiters.keys()]) this.notify([id]);
  }
}
