// The hub's side of the writer thread (writer.ts): numbered calls, answered in order. While a call
// is out the worker keeps the process alive; idle, it does not. If the thread dies, its calls fail
// with store_unavailable and `onExit` lets the store go on writing on its own connection.
import { Worker } from 'node:worker_threads';
import { HubError } from '../../errors.js';
import { fromErrorData } from './commits.js';
import type { WriterAnswer, WriterOptions, WriterRequest } from './writer.js';

interface Call {
  resolve: (outcomes: unknown[]) => void;
  reject: (e: Error) => void;
}

export class WriterThread {
  private readonly worker: Worker;
  private readonly calls = new Map<number, Call>();
  private nextId = 1;
  private stopping = false;
  private exited = false;
  readonly done: Promise<void>;

  constructor(file: string, o: WriterOptions, onExit: (unexpected: boolean) => void) {
    // A small young generation: the writer's garbage is short-lived (one batch's copied items), and
    // V8's default lets it grow to 32 MiB+ of resident memory (bench memory: ~25 MiB less peak RSS).
    this.worker = new Worker(new URL('./writer.js', import.meta.url), { workerData: { file, ...o }, resourceLimits: { maxYoungGenerationSizeMb: 8 } });
    this.worker.unref();
    this.worker.on('message', (a: WriterAnswer) => {
      const call = this.calls.get(a.id);
      if (call === undefined) return;
      this.calls.delete(a.id);
      if (this.calls.size === 0) this.worker.unref();
      if ('failed' in a) call.reject(fromErrorData(a.failed));
      else call.resolve(a.outcomes);
    });
    this.worker.on('error', () => undefined); // 'exit' follows and says what is needed
    this.done = new Promise((resolve) => {
      this.worker.once('exit', () => {
        this.exited = true;
        const lost = new HubError('store_unavailable', 'the store\'s writer thread ended; the write may not have happened');
        for (const call of this.calls.values()) call.reject(lost);
        this.calls.clear();
        onExit(!this.stopping);
        resolve();
      });
    });
  }

  get alive(): boolean {
    return !this.exited && !this.stopping;
  }

  call(kind: WriterRequest['kind'], items: unknown[]): Promise<unknown[]> {
    if (!this.alive) return Promise.reject(new HubError('store_unavailable', 'the store\'s writer thread has ended'));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.calls.size === 0) this.worker.ref();
      this.calls.set(id, { resolve, reject });
      this.worker.postMessage({ id, kind, items } satisfies WriterRequest);
    });
  }

  /** The checkpointer thread is gone: this connection checkpoints as SQLite does by default. */
  autocheckpoint(): void {
    if (this.alive) this.worker.postMessage('autocheckpoint');
  }

  /** Ends the thread once the calls already sent are answered (the caller drained its commits). */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.stopping = true;
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.done;
  }
}
