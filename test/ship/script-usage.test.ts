// The shipping scripts refuse a command line they do not understand with one stderr line and exit
// 2, before they build, render or write anything; --help teaches on stdout and exits 0.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT } from '../support/paths.js';

function run(script: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [join(ROOT, 'scripts', script), ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function refused(r: ReturnType<typeof run>, says: RegExp): void {
  assert.equal(r.status, 2, `exit code 2, got ${r.status}: ${r.stderr}`);
  assert.equal(r.stdout, '');
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  assert.match(lines[0] as string, says);
}

describe('npm run k8s', () => {
  it('refuses an unknown flag or an argument (exit 2, one line) without rendering', () => {
    refused(run('k8s.mjs', ['--chek']), /^swarm: k8s: Unknown option '--chek' \(npm run k8s -- --help\)$/);
    refused(run('k8s.mjs', ['prod']), /^swarm: k8s: Unexpected argument 'prod'/);
  });

  it('--help says what it does, its flag and its exit codes', () => {
    const r = run('k8s.mjs', ['--help']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^usage: npm run k8s \[-- --check\]/);
    assert.match(r.stdout, /--check {3}write nothing/);
    assert.match(r.stdout, /exit codes: 0 .* 1 .* 2 bad usage/);
  });
});

describe('scripts/containers.mjs', () => {
  it('refuses no image, an unknown image and two images (exit 2, one line naming the images)', () => {
    refused(run('containers.mjs', []), /^swarm: containers: which image\?; usage: node scripts\/containers\.mjs base\|node\|swarm\|postgres\|systemd: /);
    refused(run('containers.mjs', ['nginx']), /^swarm: containers: no image nginx; usage: /);
    refused(run('containers.mjs', ['swarm', 'node']), /^swarm: containers: one image at a time \(got swarm node\); usage: /);
  });

  it('--help prints the usage on stdout and exits 0', () => {
    const r = run('containers.mjs', ['--help']);
    assert.equal(r.status, 0);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /^usage: node scripts\/containers\.mjs base\|node\|swarm\|postgres\|systemd: builds that image/);
  });
});
