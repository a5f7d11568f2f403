// The dashboard keeps up with `swarm demo --speed 10` for a minute (issue 17): the demo's simulated
// swarm (five events a second) plus six messages a second from three more agents, so that the feed
// overflows, while an admin's page (every message) is open. The feed keeps exactly FEED_MAX items
// in the page, stays in time order, shows the last message within seconds, and the page's JS heap
// after a forced GC at 60 s is within 1.2 × its value at 20 s.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { SWARM_BIN } from '../support/paths.js';
import { cleanEnv, runCli } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { launchChromium, openDashboard, signIn } from './browser.js';

/** src/dashboard/feed.ts's FEED_MAX. */
const FEED_MAX = 200;
/** Agents of this test's own traffic, beside the demo's Agent-1 … Agent-8. */
const SENDERS = ['Agent-21', 'Agent-22', 'Agent-23'];
const PER_SECOND = 6;

let demo: { proc: ChildProcess; url: string; adminToken: string; output(): string; exited: Promise<number | null> };
let browser: Browser;
const tokens: Record<string, string> = {};

/** `swarm demo --speed 10` in a data directory of the test's, so its admin token can be read. */
async function startDemo(): Promise<typeof demo> {
  const data = join(tempDir('swarm-dash-demo-'), 'demo');
  const proc = spawn(process.execPath, [SWARM_BIN, 'demo', '--speed', '10', '--for', '150s', '--data', data], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const url = (): string | undefined => /^Dashboard: (\S+?)\/?$/m.exec(out)?.[1];
  for (let i = 0; i < 300 && url() === undefined && proc.exitCode === null; i++) await sleep(100);
  const found = url();
  if (found === undefined) {
    proc.kill('SIGKILL');
    throw new Error(`swarm demo printed no dashboard URL within 30 s:\n${out}`);
  }
  return { proc, url: found, adminToken: readFileSync(join(data, 'admin.token'), 'utf8').trim(), output: () => out, exited };
}

async function add(id: string, role: string): Promise<void> {
  const r = await runCli(['agents', 'add', id, '--role', role, '-q'], { env: { SWARM_HUB: demo.url, SWARM_TOKEN: demo.adminToken } });
  assert.equal(r.code, 0, r.stderr);
  tokens[id] = r.stdout.trim();
}

async function send(from: string, n: number): Promise<void> {
  const res = await fetch(`${demo.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[from]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'Agent-4', body: `load message ${n} from ${from}`, priority: n % 10 === 0 ? 'high' : 'regular' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('dashboard under load', { timeout: 240_000 }, () => {
  before(async () => {
    browser = await launchChromium();
    demo = await startDemo();
    for (const id of SENDERS) await add(id, 'agent');
  });
  after(async () => {
    await browser?.close();
    if (demo !== undefined && demo.proc.exitCode === null) {
      demo.proc.kill('SIGTERM');
      assert.equal(await demo.exited, 0, demo.output());
    }
  });

  it('keeps a bounded, ordered feed and a flat heap for a minute of traffic', async () => {
    const d = await openDashboard(browser, demo.url);
    await signIn(d.page, demo.adminToken);
    const cdp = await d.context.newCDPSession(d.page);
    const heap = async (): Promise<number> => {
      await cdp.send('HeapProfiler.collectGarbage');
      return ((await cdp.send('Runtime.getHeapUsage')) as { usedSize: number }).usedSize;
    };
    const started = Date.now();
    let sent = 0;
    let heapAt20 = 0;
    // Bounded: 60 s of sends, one every 1000/PER_SECOND ms.
    while (Date.now() - started < 60_000 && sent < 60 * PER_SECOND + 10) {
      await send(SENDERS[sent % SENDERS.length] as string, sent);
      sent += 1;
      if (heapAt20 === 0 && Date.now() - started >= 20_000) heapAt20 = await heap();
      const next = started + (sent * 1000) / PER_SECOND;
      await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
    }
    assert.ok(sent >= 50 * PER_SECOND, `only ${sent} messages sent in a minute`);
    const last = `load message ${sent - 1} from ${SENDERS[(sent - 1) % SENDERS.length]}`;
    await d.page.locator('#feed-list li', { hasText: last }).waitFor({ timeout: 10_000 });
    const heapAt60 = await heap();
    const items = await d.page.$$eval('#feed-list li', (lis) => lis.map((li) => ({ id: li.dataset.id ?? '', created: li.dataset.created ?? '' })));
    assert.equal(items.length, FEED_MAX, `the feed holds ${items.length} items after ${sent} messages`);
    for (let i = 1; i < items.length; i++) {
      const [a, b] = [items[i - 1], items[i]] as [{ id: string; created: string }, { id: string; created: string }];
      assert.ok(a.created > b.created || (a.created === b.created && a.id > b.id), `out of order at ${i}: ${JSON.stringify(a)} then ${JSON.stringify(b)}`);
    }
    assert.ok(heapAt20 > 0, 'heap measured at 20 s');
    assert.ok(heapAt60 <= heapAt20 * 1.2, `heap grew from ${heapAt20} bytes at 20 s to ${heapAt60} at 60 s`);
    const demoEvents = demo.output().split('\n').filter((l) => /^\d\d:\d\d:\d\d {2}Agent-\d/.test(l)).length;
    assert.ok(demoEvents >= 150, `the demo printed ${demoEvents} events`);
    process.stderr.write(`dashboard load: ${demoEvents} demo events and ${sent} messages of ours; heap ${(heapAt20 / 1e6).toFixed(2)} MB at 20 s, ${(heapAt60 / 1e6).toFixed(2)} MB at 60 s\n`);
    assert.deepEqual(d.errors, []);
    await d.context.close();
  });
});
