// The web dashboard in a real browser (docs/dashboard.md): Debian's Chromium, headless, against a
// hub this test starts on loopback. What the CLI does shows up in the page without a reload; what
// the page hides from an observer the API refuses too; reports cannot run script.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { type HubProcess, runCli, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { ARTIFACTS, launchChromium, openDashboard, signIn } from './browser.js';

const require = createRequire(import.meta.url);

let hub: HubProcess;
let browser: Browser;
const tokens: Record<string, string> = {};
const allRequests: string[] = [];

function cli(who: string, args: string[], input?: string) {
  return runCli(args, { env: { SWARM_HUB: hub.url, SWARM_TOKEN: who === 'admin' ? hub.adminToken : (tokens[who] ?? '') }, input });
}
async function ok(who: string, args: string[], input?: string): Promise<string> {
  const r = await cli(who, args, input);
  assert.equal(r.code, 0, `swarm ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout.trim();
}

async function open(token: string, viewport?: { width: number; height: number }) {
  const d = await openDashboard(browser, hub.url, viewport);
  d.page.on('request', (r) => allRequests.push(r.url()));
  await signIn(d.page, token);
  return d;
}

/** Every visible, enabled control of the page, named for messages. */
function controls(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]')]
      .filter((e) => e.offsetParent !== null && !(e as HTMLButtonElement).disabled && e.tabIndex >= 0)
      .map((e) => e.id || `${e.tagName.toLowerCase()}:${e.getAttribute('aria-label') ?? e.textContent?.trim() ?? ''}`),
  );
}

describe('dashboard', { timeout: 240_000 }, () => {
  before(async () => {
    hub = await spawnHub(tempDir('swarm-dash-'));
    browser = await launchChromium();
    for (const [id, role] of [['Agent-4', 'captain'], ['Agent-1', 'agent'], ['Agent-7', 'agent'], ['Watcher-1', 'observer']] as const) {
      tokens[id] = await ok('admin', ['agents', 'add', id, '--role', role, '--specialty', `${role} work`, '-q']);
    }
  });
  after(async () => {
    await browser?.close();
    await hub?.stop();
  });

  it('is served with a strict Content-Security-Policy and the right content types', async () => {
    const page = await fetch(`${hub.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    const csp = page.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'self'", "script-src 'self'", "connect-src 'self'", "object-src 'none'", "frame-ancestors 'none'"]) assert.ok(csp.includes(d), `${d} in ${csp}`);
    assert.ok(!csp.includes('unsafe-inline') && !csp.includes('unsafe-eval'), csp);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
    const html = await page.text();
    assert.ok(!/<script(?![^>]*\bsrc=)[^>]*>/i.test(html), 'no inline script in the page');
    const js = await fetch(`${hub.url}/dashboard/app.js`);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await fetch(`${hub.url}/dashboard/style.css`)).headers.get('content-type'), 'text/css; charset=utf-8');
    assert.equal((await fetch(`${hub.url}/dashboard/nothing.js`)).status, 404);
  });

  it('signs in with a token kept in session storage, and refuses a wrong one', async () => {
    const d = await openDashboard(browser, hub.url);
    d.page.on('request', (r) => allRequests.push(r.url()));
    await d.page.getByLabel('Token').fill('swarm_not-a-token');
    await d.page.getByRole('button', { name: 'Sign in' }).click();
    await d.page.getByText('that token was refused').waitFor();
    assert.equal(await d.page.locator('#app').isVisible(), false);
    await signIn(d.page, tokens['Agent-4'] as string);
    await d.page.getByText('Signed in as Agent-4 (captain)').waitFor();
    assert.equal(await d.page.evaluate(() => sessionStorage.getItem('swarm.token')), tokens['Agent-4']);
    assert.equal(await d.page.evaluate(() => localStorage.length), 0);
    for (const u of d.requests) assert.ok(!u.includes(tokens['Agent-4'] as string), `token in a URL: ${u}`);
    await d.context.close();
  });

  it('shows a message sent from the CLI in the feed without a reload', async () => {
    const d = await open(tokens['Agent-4'] as string);
    const loads = d.requests.filter((u) => u === `${hub.url}/`).length;
    const body = `deploy window at 14:00 ${Date.now()}`;
    await ok('Agent-1', ['send', 'Agent-4', body, '--priority', 'high']);
    const item = d.page.locator('#feed-list li', { hasText: body });
    await item.waitFor({ timeout: 10_000 });
    assert.match((await item.textContent()) ?? '', /Agent-1 → Agent-4 · text · high/);
    // Filters hide what does not match, and show it again.
    await d.page.getByLabel('Priority').selectOption('low');
    await item.waitFor({ state: 'hidden' });
    await d.page.getByLabel('Priority').selectOption('');
    await item.waitFor({ state: 'visible' });
    // Search asks the hub's history.
    await d.page.getByLabel('Search history').fill('deploy window');
    await d.page.getByRole('button', { name: 'Search' }).click();
    await d.page.locator('#search-results li', { hasText: body }).waitFor();
    assert.equal(d.requests.filter((u) => u === `${hub.url}/`).length, loads, 'the page was not reloaded');
    // The captain posts from the page; the agent's own dashboard has it in its inbox, and no actions.
    const note = `standup moved to 10:30 ${Date.now()}`;
    await d.page.getByLabel('To', { exact: true }).fill('Agent-1');
    await d.page.getByLabel('Message', { exact: true }).fill(note);
    await d.page.getByRole('button', { name: 'Send' }).click();
    await d.page.getByText('send to Agent-1: done').waitFor();
    await d.page.locator('#feed-list li', { hasText: note }).waitFor();
    const a = await open(tokens['Agent-1'] as string);
    await a.page.getByText('Signed in as Agent-1 (agent)').waitFor();
    await a.page.locator('#inbox-list li', { hasText: note }).waitFor();
    assert.equal(await a.page.locator('#actions').isVisible(), false, 'an agent has no captain actions');
    await a.context.close();
    assert.deepEqual(d.errors, []);
    await d.context.close();
  });

  it('moves a task claimed and finished from the CLI across the board, and a captain verifies it from the page', async () => {
    const d = await open(tokens['Agent-4'] as string);
    const title = `Fix the flaky CI job ${Date.now()}`;
    const id = await ok('Agent-4', ['task', 'add', title, '--points', '5', '-q']);
    const card = (col: string) => d.page.locator(`#board-${col} li`, { hasText: title });
    await card('open').waitFor();
    await ok('Agent-1', ['task', 'claim', id]);
    await card('claimed').waitFor();
    assert.match((await card('claimed').textContent()) ?? '', /5 pts.*Agent-1.*claim expires in/);
    await ok('Agent-1', ['task', 'done', id, '--note', 'retry added']);
    await card('done').waitFor();
    assert.equal(await card('claimed').count(), 0);
    await card('done').filter({ hasText: 'no review asked' }).waitFor();
    await ok('Agent-1', ['review', 'request', id, '--reviewers', 'Agent-7']);
    await card('done').filter({ hasText: 'reviews: Agent-7 pending' }).waitFor();
    await d.page.getByRole('button', { name: `Verify ${title}` }).click();
    await card('verified').waitFor();
    await d.page.locator('#leader-rows tr', { hasText: 'Agent-1' }).filter({ hasText: '5' }).waitFor();
    await d.context.close();
  });

  it('shows an observer no inbox and no actions, and the API refuses a forged action from its page', async () => {
    const d = await open(tokens['Watcher-1'] as string);
    await d.page.getByText('Signed in as Watcher-1 (observer)').waitFor();
    await d.page.locator('#roster-rows tr', { hasText: 'Agent-1' }).waitFor();
    await d.page.locator('#channel-list li').first().waitFor();
    // Queue numbers, board and leaderboard are the observer's to see.
    await d.page.locator('#health-charts .chart', { hasText: 'Queue depth' }).waitFor();
    await d.page.locator('#board-verified li', { hasText: 'Fix the flaky CI job' }).waitFor();
    await d.page.locator('#leader-rows tr', { hasText: 'Agent-1' }).waitFor();
    for (const hidden of ['#inbox', '#feed', '#actions', '#reports']) assert.equal(await d.page.locator(hidden).isVisible(), false, `${hidden} hidden`);
    const buttons = await d.page.getByRole('button').all();
    const visible = [];
    for (const b of buttons) if (await b.isVisible()) visible.push(await b.textContent());
    assert.deepEqual(visible, ['Sign out'], 'no action buttons');
    const forged = await d.page.evaluate(async () => {
      const token = sessionStorage.getItem('swarm.token') ?? '';
      const post = (path: string, body: unknown) => fetch(path, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) }).then(async (r) => ({ status: r.status, code: ((await r.json()) as { code: string }).code }));
      return [await post('/v1/messages', { to: 'all', body: 'forged' }), await post('/v1/tasks', { title: 'forged', points: 1 }), await fetch('/v1/inbox', { headers: { authorization: `Bearer ${token}` } }).then((r) => ({ status: r.status, code: 'inbox' }))];
    });
    assert.deepEqual(forged.map((f) => f.status), [403, 403, 403], JSON.stringify(forged));
    assert.equal(forged[0]?.code, 'forbidden');
    assert.ok(!(await ok('admin', ['history', '--json', '--limit', '1000'])).includes('forged'), 'nothing was sent');
    await d.context.close();
  });

  it('renders a report from markdown with its script, handlers and javascript: links inert', async () => {
    const report = ['# Nightly', '', 'All **green**.', '', '<script>window.__pwned = "script"; alert("script")</script>', '', '<img src="x" onerror="window.__pwned = \'img\'; alert(\'img\')">', '', '[click me](javascript:window.__pwned=%22link%22;alert(1))', '', '<a href="javascript:alert(2)" id="raw">raw link</a>', '', '<p onclick="alert(3)">para</p>'].join('\n');
    await ok('Agent-1', ['report', 'post', '--title', 'Nightly build', '--file', '-'], report);
    const d = await open(tokens['Agent-4'] as string);
    const art = d.page.locator('#report-list article', { hasText: 'Nightly build' });
    await art.waitFor();
    assert.equal(await art.locator('h1').textContent(), 'Nightly');
    assert.equal(await art.locator('strong').textContent(), 'green');
    assert.equal(await art.locator('script').count(), 0);
    assert.equal(await art.locator('[onerror], [onclick]').count(), 0);
    for (const name of ['click me', 'raw link']) {
      const link = art.getByText(name);
      assert.equal(await link.getAttribute('href'), null, `${name}: href removed`);
      await link.click();
    }
    await art.getByText('para').click();
    await d.page.waitForTimeout(500);
    assert.equal(await d.page.evaluate(() => (window as { __pwned?: string }).__pwned), undefined);
    assert.deepEqual(d.dialogs, []);
    await d.context.close();
  });

  it('is reachable by keyboard alone, and axe-core finds no serious or critical violation', async () => {
    const d = await open(tokens['Agent-4'] as string);
    await d.page.locator('#board-verified li').first().waitFor();
    await d.page.locator('#report-list article').first().waitFor();
    const want = new Set(await controls(d.page));
    assert.ok(want.size >= 12, `controls: ${[...want].join(', ')}`);
    await d.page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
    const reached = new Set<string>();
    // Bounded: three times round the page at most; Tab wraps through the browser's own UI back to the page.
    for (let i = 0; i < want.size * 3 && [...want].some((c) => !reached.has(c)); i++) {
      await d.page.keyboard.press('Tab');
      const id = await d.page.evaluate(() => {
        const e = document.activeElement as HTMLElement | null;
        return e === null ? '' : e.id || `${e.tagName.toLowerCase()}:${e.getAttribute('aria-label') ?? e.textContent?.trim() ?? ''}`;
      });
      reached.add(id);
    }
    const missed = [...want].filter((c) => !reached.has(c));
    assert.deepEqual(missed, [], `not reached by Tab: ${missed.join(', ')}`);
    for (const [who, page] of [['captain', d.page], ['observer', (await open(tokens['Watcher-1'] as string)).page]] as const) {
      await page.locator('#roster-rows tr').first().waitFor();
      await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
      const violations = await page.evaluate(async () => {
        const r = await (window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: unknown[] }[] }> } }).axe.run(document, { resultTypes: ['violations'] });
        return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length }));
      });
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad, [], `${who}: ${JSON.stringify(bad)}`);
    }
    await d.context.close();
  });

  it('fits 1280×800 and a 390-wide phone (screenshots in test-artifacts/dashboard)', async () => {
    for (const [name, viewport] of [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]] as const) {
      const d = await open(tokens['Agent-4'] as string, viewport);
      await d.page.locator('#board-verified li').first().waitFor();
      // Send rate and latency need two samples of /metrics (3 s apart).
      await d.page.locator('#health-charts .chart', { hasText: 'Sends' }).waitFor();
      await d.page.locator('#health-charts .chart', { hasText: 'Request latency' }).waitFor();
      const overflow = await d.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      assert.ok(overflow <= 0, `${name}: the page scrolls sideways by ${overflow}px`);
      await d.page.screenshot({ path: join(ARTIFACTS, `dashboard-${name}.png`), fullPage: false });
      await d.context.close();
    }
  });

  it('made no request beyond the hub on loopback', () => {
    assert.ok(allRequests.length > 20, `requests seen: ${allRequests.length}`);
    const away = allRequests.filter((u) => !u.startsWith(`${hub.url}/`));
    assert.deepEqual(away, []);
  });
});
