// The dashboard keeps up with a busy swarm for a minute (issue 17): about six messages a second
// (the pace of `swarm demo --speed 10` is five events a second) from three agents, while a
// captain's page is open. The feed keeps at most FEED_MAX items in the page, stays in time order,
// shows the last message within seconds, and the page's JS heap after a forced GC at 60 s is
// within 1.2 × its value at 20 s.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { launchChromium, openDashboard, signIn } from './browser.js';

/** src/dashboard/feed.ts's FEED_MAX. */
const FEED_MAX = 200;
const SENDERS = ['Agent-1', 'Agent-2', 'Agent-3'];
const PER_SECOND = 6;

let hub: HubProcess;
let browser: Browser;
const tokens: Record<string, string> = {};

async function add(id: string, role: string): Promise<void> {
  const r = await runCli(['agents', 'add', id, '--role', role, '-q'], { env: { SWARM_HUB: hub.url, SWARM_TOKEN: hub.adminToken } });
  assert.equal(r.code, 0, r.stderr);
  tokens[id] = r.stdout.trim();
}

async function send(from: string, n: number): Promise<void> {
  const res = await fetch(`${hub.url}/v1/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${tokens[from]}`, 'content-type': 'application/json' },
    body: JSON.stringify({ to: 'Agent-4', body: `load message ${n} from ${from}`, priority: n % 10 === 0 ? 'high' : 'regular' }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(res.status, 201, await res.text());
}

describe('dashboard under load', { timeout: 240_000 }, () => {
  before(async () => {
    hub = await spawnHub(tempDir('swarm-dash-load-'));
    browser = await launchChromium();
    await add('Agent-4', 'captain');
    for (const id of SENDERS) await add(id, 'agent');
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('keeps a bounded, ordered feed and a flat heap for a minute of traffic', async () => {
    const d = await openDashboard(browser, hub.url);
    await signIn(d.page, tokens['Agent-4'] as string);
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
    process.stderr.write(`dashboard load: ${sent} messages; heap ${(heapAt20 / 1e6).toFixed(2)} MB at 20 s, ${(heapAt60 / 1e6).toFixed(2)} MB at 60 s\n`);
    assert.deepEqual(d.errors, []);
    await d.context.close();
  });
});
