// In-process wake-ups for long-polling inbox reads: a send notifies each recipient after its
// commit, and a waiting `inbox --wait` reads again. (Streams and cross-process fan-out build on
// this in later issues.)
export class InboxSignals {
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Set by wakeAll: the hub is shutting down, and a long-poll must answer now, not wait again. */
  stopping = false;

  notify(agentIds: Iterable<string>): void {
    for (const id of agentIds) {
      const set = this.waiters.get(id);
      if (set === undefined) continue;
      this.waiters.delete(id);
      for (const wake of set) wake();
    }
  }

  /** Resolves on the next notify for the agent, after `ms`, or when `signal` aborts. */
  wait(agentId: string, ms: number, signal?: AbortSignal): Promise<void> {
    if (this.stopping) return Promise.resolve();
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

  /** Wakes every waiter (shutdown). */
  wakeAll(): void {
    this.stopping = true;
    for (const id of [...this.waiters.keys()]) this.notify([id]);
  }
}
