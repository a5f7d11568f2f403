// Containers for the tests in test/ship/: rootful podman with runc and this project's
// containers.conf, the images made by scripts/containers.mjs under its machine-wide lock (two test
// files at once share one build). Where podman cannot run at all (not root, or its Debian packages
// cannot be installed), the test is skipped with a loud notice naming what is missing.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';
import { runProcess } from './process.js';

interface ContainersModule {
  CONTAINERS_CONF: string;
  ensurePodman(): void;
  ensureImageLocked(what: string): string;
}

// scripts/ is plain JavaScript outside the compiled tree: loaded by URL, typed here.
const containers = (): Promise<ContainersModule> => import(pathToFileURL(join(ROOT, 'scripts', 'containers.mjs')).href) as Promise<ContainersModule>;

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * Runs `command args…` with podman's environment (and `input` on its stdin, in `cwd`); never
 * rejects on a non-zero exit (check `code`).
 */
export async function exec(command: string, args: string[], o: { timeoutMs?: number; env?: Record<string, string>; input?: string; cwd?: string } = {}): Promise<Run> {
  const { CONTAINERS_CONF } = await containers();
  return runProcess(command, args, { env: { ...process.env, CONTAINERS_CONF, ...o.env }, cwd: o.cwd, input: o.input, timeoutMs: o.timeoutMs ?? 60_000 });
}

/** `podman args…`; see exec. */
export function podman(args: string[], o: { timeoutMs?: number } = {}): Promise<Run> {
  return exec('podman', args, o);
}

/** `podman args…`, which must succeed; returns its stdout, trimmed. */
export async function podmanOk(args: string[], o: { timeoutMs?: number } = {}): Promise<string> {
  const r = await podman(args, o);
  if (r.code !== 0) throw new Error(`podman ${args.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
  return r.stdout.trim();
}

/** A name no other test uses: containers, volumes and pods of one test start with it. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

const made = new Map<string, Promise<string>>();

/**
 * The images `what` names (scripts/containers.mjs: swarm, postgres, …), made once per test file.
 * null after a loud t.skip when this machine cannot run podman at all; any other failure (the
 * Dockerfile does not build) fails the test.
 */
export async function images(t: TestContext, what: string[]): Promise<string[] | null> {
  const mod = await containers();
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root) {
    const reason = 'SKIPPED: container tests need root (rootful podman with runc, deploy/podman/containers.conf); run them as root';
    process.stderr.write(`swarm: ${t.name}: ${reason}\n`);
    t.skip(reason);
    return null;
  }
  try {
    mod.ensurePodman();
  } catch (e) {
    const reason = `SKIPPED: podman cannot be installed here: ${(e as Error).message}`;
    process.stderr.write(`swarm: ${t.name}: ${reason}\n`);
    t.skip(reason);
    return null;
  }
  const out: string[] = [];
  for (const w of what) {
    let p = made.get(w);
    if (p === undefined) {
      // Synchronous under the lock (flock): a build is minutes of podman, not of this process.
      p = Promise.resolve().then(() => mod.ensureImageLocked(w));
      made.set(w, p);
    }
    out.push(await p);
  }
  return out;
}

/** Removes containers, pods and volumes by name, ignoring those that are gone. */
export async function removeAll(o: { containers?: string[]; pods?: string[]; volumes?: string[] }): Promise<void> {
  if ((o.containers ?? []).length > 0) await podman(['rm', '-f', '-v', '-t', '0', ...(o.containers ?? [])], { timeoutMs: 60_000 });
  for (const pod of o.pods ?? []) await podman(['pod', 'rm', '-f', '-t', '0', pod], { timeoutMs: 60_000 });
  if ((o.volumes ?? []).length > 0) await podman(['volume', 'rm', '-f', ...(o.volumes ?? [])], { timeoutMs: 60_000 });
}
