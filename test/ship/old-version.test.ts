// How the rolling-upgrade test finds and provisions the old version (test/support/old-version.ts),
// without building it: the commit from the tag, the recorded commit, or a clear failure, in scratch
// git repositories; and when this checkout's node_modules can serve the old build.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { dependencyDifferences, resolveOldCommit, upgradeFrom } from '../support/old-version.js';
import { tempDir } from '../support/temp.js';

function git(dir: string, ...args: string[]): string {
  const r = spawnSync('git', ['-C', dir, '-c', 'user.name=t', '-c', 'user.email=t@example.invalid', '-c', 'init.defaultBranch=main', ...args], { encoding: 'utf8' });
  assert.equal(r.status, 0, `git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}

/** A repository with two commits; returns it and both SHAs. */
function scratchRepo(): { dir: string; first: string; second: string } {
  const dir = tempDir('swarm-oldver-');
  git(dir, 'init', '-q');
  writeFileSync(join(dir, 'a.txt'), 'one\n');
  git(dir, 'add', 'a.txt');
  git(dir, 'commit', '-q', '-m', 'one');
  const first = git(dir, 'rev-parse', 'HEAD');
  writeFileSync(join(dir, 'a.txt'), 'two\n');
  git(dir, 'commit', '-q', '-am', 'two');
  return { dir, first, second: git(dir, 'rev-parse', 'HEAD') };
}

describe('the old version: which commit', () => {
  it('takes the tag when the clone has it', () => {
    const r = scratchRepo();
    git(r.dir, 'tag', '-a', 'v-old', '-m', 'old', r.first);
    assert.deepEqual(resolveOldCommit({ tag: 'v-old', commit: r.first }, r.dir), { tag: 'v-old', commit: r.first, found: 'tag' });
  });

  it('refuses a tag and a recorded commit that disagree', () => {
    const r = scratchRepo();
    git(r.dir, 'tag', 'v-old', r.second);
    assert.throws(() => resolveOldCommit({ tag: 'v-old', commit: r.first }, r.dir), /tag v-old is commit [0-9a-f]{40}, but deploy\/upgrade-from.json records .*make them agree/);
  });

  it('falls back to the recorded commit when the tag is missing', () => {
    const r = scratchRepo();
    assert.deepEqual(resolveOldCommit({ tag: 'v-absent', commit: r.first }, r.dir), { tag: 'v-absent', commit: r.first, found: 'commit' });
  });

  it('fails, naming tag, commit and the fetch, when neither is there and origin cannot supply it', () => {
    const r = scratchRepo();
    const missing = 'f'.repeat(40);
    assert.throws(() => resolveOldCommit({ tag: 'v-absent', commit: missing }, r.dir), (e: Error) => {
      assert.match(e.message, /not in this clone: no tag v-absent, no commit f{40}, and `git fetch origin f{40}` failed/);
      assert.match(e.message, /git fetch origin tag v-absent/);
      return true;
    });
  });

  it('fails when the checkout is not a git repository', () => {
    assert.throws(() => resolveOldCommit({ tag: 'v-old', commit: 'a'.repeat(40) }, tempDir('swarm-nogit-')), /is not a git checkout/);
  });

  it('deploy/upgrade-from.json names a tag and a full SHA', () => {
    const from = upgradeFrom();
    assert.match(from.commit, /^[0-9a-f]{40}$/);
    assert.ok(from.tag.length > 0);
  });
});

describe('the old version: whose node_modules', () => {
  type Lock = Parameters<typeof dependencyDifferences>[0];
  const lock = (): Lock => ({
    packages: {
      '': { dependencies: { pg: '1.0.0' }, devDependencies: { typescript: '5.0.0', eslint: '9.0.0' } },
      'node_modules/pg': { version: '1.0.0', integrity: 'sha512-pg', dependencies: { 'pg-types': '^2' } },
      'node_modules/pg-types': { version: '2.0.0', integrity: 'sha512-pgt' },
      'node_modules/typescript': { version: '5.0.0', integrity: 'sha512-ts' },
      'node_modules/eslint': { version: '9.0.0', integrity: 'sha512-es', dependencies: { 'eslint-scope': '^8' } },
      'node_modules/eslint-scope': { version: '8.0.0', integrity: 'sha512-esc' },
    },
  });
  const with_ = (l: Lock, path: string, change: Record<string, unknown>): Lock => ({ packages: { ...l.packages, [path]: { ...l.packages![path], ...change } } });

  it('none when the pins are the same, or differ only in the linters or in packages the old one lacks', () => {
    assert.deepEqual(dependencyDifferences(lock(), lock()), []);
    assert.deepEqual(dependencyDifferences(lock(), with_(lock(), 'node_modules/eslint-scope', { version: '8.1.0', integrity: 'sha512-other' })), []);
    assert.deepEqual(dependencyDifferences(lock(), with_(lock(), 'node_modules/new-test-tool', { version: '1.0.0' })), []);
  });

  it('names a production dependency, a transitive one, or a build tool pinned differently or missing', () => {
    assert.deepEqual(dependencyDifferences(lock(), with_(lock(), 'node_modules/pg', { version: '1.0.1', integrity: 'sha512-pg2' })), ['node_modules/pg@1.0.0']);
    assert.deepEqual(dependencyDifferences(lock(), with_(lock(), 'node_modules/pg-types', { integrity: 'sha512-tampered' })), ['node_modules/pg-types@2.0.0']);
    const noTs = lock();
    delete noTs.packages!['node_modules/typescript'];
    assert.deepEqual(dependencyDifferences(lock(), noTs), ['node_modules/typescript@5.0.0']);
  });

  it('resolves a nested copy before the hoisted one, as Node does', () => {
    const old = with_(lock(), 'node_modules/pg/node_modules/pg-types', { version: '3.0.0', integrity: 'sha512-nested' });
    assert.deepEqual(dependencyDifferences(old, old), []);
    assert.deepEqual(dependencyDifferences(old, lock()), ['node_modules/pg/node_modules/pg-types@3.0.0']);
  });

});
