// bin/swarm.cjs runs the bundled CLI from a V8 code cache (docs/benchmarks.md, "CLI start-up"). A
// cache must never run code other than the bundle's: V8 checks only the source's length, so the
// cache carries the bundle's SHA-256, and one made from another bundle, or refused by V8, is
// replaced. Each test copies the launcher, the bundle and what it needs into a directory of its own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from '../support/paths.js';
import { tempDir } from '../support/temp.js';

const run = promisify(execFile);

function copyCli(): { bin: string; bundle: string; cache: string } {
  const dir = tempDir('swarm-cache-');
  mkdirSync(join(dir, 'bin'));
  mkdirSync(join(dir, 'dist', 'src', 'cli'), { recursive: true });
  const copy = (rel: string) => copyFileSync(join(ROOT, rel), join(dir, rel));
  for (const rel of ['package.json', 'bin/swarm.cjs', 'dist/src/errors.js', 'dist/src/cli/main.bundle.cjs']) copy(rel);
  return { bin: join(dir, 'bin', 'swarm.cjs'), bundle: join(dir, 'dist', 'src', 'cli', 'main.bundle.cjs'), cache: join(dir, 'dist', 'src', 'cli', 'main.bundle.cache') };
}

const sha256 = (b: Buffer | string) => createHash('sha256').update(b).digest();
const help = async (bin: string) => (await run(process.execPath, [bin, '--help'])).stdout;

describe('the CLI code cache', () => {
  it('is written on the first run, tagged with the bundle it was made from, and reused as it is', async () => {
    const cli = copyCli();
    const first = await help(cli.bin);
    assert.match(first, /the messaging and coordination hub/);
    const cache = readFileSync(cli.cache);
    assert.deepEqual(cache.subarray(0, 32), sha256(readFileSync(cli.bundle)));
    assert.ok(cache.length > 10_000, `a code cache of ${cache.length} bytes`);
    const ino = statSync(cli.cache).ino;
    assert.equal(await help(cli.bin), first);
    assert.equal(statSync(cli.cache).ino, ino, 'an accepted cache is not written again');
  });

  it('never runs a cache made from another bundle of the same length: the changed bundle runs, and the cache is replaced', async () => {
    const cli = copyCli();
    await help(cli.bin);
    const source = readFileSync(cli.bundle, 'utf8');
    const changed = source.replace('the messaging and coordination hub', 'the MESSAGING and coordination hub');
    assert.equal(changed.length, source.length);
    writeFileSync(cli.bundle, changed);
    assert.match(await help(cli.bin), /the MESSAGING and coordination hub/);
    assert.deepEqual(readFileSync(cli.cache).subarray(0, 32), sha256(changed));
  });

  it('runs from source when V8 refuses the cache (another Node, or a damaged file), and writes a good one', async () => {
    const cli = copyCli();
    const expected = await help(cli.bin);
    const good = readFileSync(cli.cache);
    writeFileSync(cli.cache, Buffer.concat([good.subarray(0, 32), Buffer.alloc(good.length - 32, 7)]));
    assert.equal(await help(cli.bin), expected);
    const rewritten = readFileSync(cli.cache);
    assert.deepEqual(rewritten.subarray(0, 32), good.subarray(0, 32));
    assert.notDeepEqual(rewritten.subarray(32, 64), Buffer.alloc(32, 7));
  });
});
