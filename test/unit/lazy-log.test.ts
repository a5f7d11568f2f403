// The request logger of server/lazy-log.ts: no pino child is made for a request that writes no
// line at an enabled level; the first line that is written carries the bindings.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import type { FastifyBaseLogger } from 'fastify';
import { pino } from 'pino';
import { lazyChild } from '../../src/server/lazy-log.js';

function logger(level: string): { parent: FastifyBaseLogger; lines: Record<string, unknown>[]; children: () => number } {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  const real = pino({ level }, sink);
  let made = 0;
  // The request's logger as Fastify hands it over, counting the children made of it.
  const parent = {
    level,
    isLevelEnabled: (l: string) => real.isLevelEnabled(l),
    child: (b: Record<string, unknown>) => {
      made++;
      return real.child(b);
    },
  } as unknown as FastifyBaseLogger;
  return { parent, lines, children: () => made };
}

describe('lazyChild', () => {
  it('makes no child while nothing is written at an enabled level', () => {
    const { parent, lines, children } = logger('warn');
    const log = lazyChild(parent, { 'user.id': 'Agent-1' });
    log.info('dropped');
    log.debug({ a: 1 }, 'dropped');
    assert.equal(children(), 0);
    assert.equal(lines.length, 0);
    assert.equal(log.level, 'warn');
  });

  it('writes enabled lines with the bindings, through one child', () => {
    const { parent, lines, children } = logger('info');
    const log = lazyChild(parent, { 'user.id': 'Agent-1' });
    log.info('one');
    log.error({ code: 'x' }, 'two');
    assert.equal(children(), 1);
    assert.deepEqual(
      lines.map((l) => [l.msg, l['user.id'], l.code]),
      [
        ['one', 'Agent-1', undefined],
        ['two', 'Agent-1', 'x'],
      ],
    );
    // A child of it carries both bindings.
    log.child({ extra: 2 }).warn('three');
    assert.deepEqual([lines[2]?.['user.id'], lines[2]?.extra], ['Agent-1', 2]);
  });
});
