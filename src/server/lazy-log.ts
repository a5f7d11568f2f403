// A request's logger that names its agent (ECS user.id) without making a pino child for every
// request: the child is made when the request first writes a line at an enabled level, which most
// requests never do (log.level warn, or info without log.requests). pino's child() serialises its
// bindings at once; on the send path it was ~4 % of the hub's main-thread CPU (docs/flame/).
import type { FastifyBaseLogger } from 'fastify';

type Level = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

class LazyChild {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Record<string, unknown>,
  ) {}

  get level(): string {
    return (this.made ?? this.parent).level;
  }

  set level(l: string) {
    this.real().level = l;
  }

  // On the prototype, not per instance: a request makes one object, not six closures.
  fatal(...args: unknown[]): void {
    this.write('fatal', args);
  }
  error(...args: unknown[]): void {
    this.write('error', args);
  }
  warn(...args: unknown[]): void {
    this.write('warn', args);
  }
  info(...args: unknown[]): void {
    this.write('info', args);
  }
  debug(...args: unknown[]): void {
    this.write('debug', args);
  }
  trace(...args: unknown[]): void {
    this.write('trace', args);
  }
  silent(): void {}

  child(bindings: Record<string, unknown>, options?: object): FastifyBaseLogger {
    return this.real().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    const p = (this.made ?? this.parent) as { isLevelEnabled?: (l: string) => boolean };
    return p.isLevelEnabled === undefined ? true : p.isLevelEnabled(level);
  }

  private real(): FastifyBaseLogger {
    return (this.made ??= this.parent.child(this.bindings));
  }

  private write(level: Level, args: unknown[]): void {
    // A line the level drops needs no child (Fastify's own request lines at info, under warn).
    if (this.made === undefined && !this.isLevelEnabled(level)) return;
    (this.real()[level] as (...a: unknown[]) => void)(...args);
  }
}

/** `parent.child(bindings)`, made only when a line is written through it. */
export function lazyChild(parent: FastifyBaseLogger, bindings: Record<string, unknown>): FastifyBaseLogger {
  return new LazyChild(parent, bindings) as unknown as FastifyBaseLogger;
}
