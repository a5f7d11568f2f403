// The dashboard's entry: sign in with a token, then show what the token's role may see (docs/dashboard.md),
// refreshed by polling the /v1 API. Every call is checked by the hub; hiding a control here is only
// a courtesy, never the protection.
import type { SettingsResponse, WhoamiResponse, WireInboxItem, WireMessage, WireTask } from '../api/schemas.js';
import { api, ApiError, forgetToken, saveToken, savedToken } from './api.js';
import { drawBoard, drawChannels, drawLeaderboard, drawRoster } from './board.js';
import { byId, el, fill, time } from './dom.js';
import { Feed } from './feed.js';
import { Health } from './health.js';
import { renderMarkdown } from './markdown.js';

/** Milliseconds between polls of the feed and inbox; the rest is redrawn every SLOW_EVERY polls. */
const POLL_MS = 1500;
const SLOW_EVERY = 2;

interface Session {
  role: string;
  id: string;
  canAct: boolean;
  hasInbox: boolean;
  claimSeconds: number;
}

let timer: ReturnType<typeof setTimeout> | undefined;
let ticks = 0;

function show(signedIn: boolean): void {
  byId('signin').hidden = signedIn;
  byId('app').hidden = !signedIn;
  byId('signout').hidden = !signedIn;
  if (!signedIn) byId('who').textContent = '';
}

function signOut(message = ''): void {
  if (timer !== undefined) clearTimeout(timer);
  timer = undefined;
  forgetToken();
  show(false);
  byId('signin-error').textContent = message;
  byId<HTMLInputElement>('token').focus();
}

async function drawInbox(): Promise<void> {
  const { items } = await api<{ items: WireInboxItem[] }>('/inbox?limit=50');
  fill(
    byId('inbox-list'),
    items.length === 0 ? [el('li', { class: 'meta' }, 'empty')] : items.map((i) => el('li', {}, el('div', { class: 'meta' }, `${time(i.message.created_at)} · from ${i.message.from} · ${i.delivery.state}`), el('div', {}, i.message.subject || i.message.body.slice(0, 300)))),
  );
}

async function drawReports(): Promise<void> {
  const { messages } = await api<{ messages: WireMessage[] }>('/reports?limit=10');
  fill(
    byId('report-list'),
    messages.length === 0
      ? [el('p', { class: 'meta' }, 'no reports yet')]
      : messages.map((m) => {
          const art = el('article', { class: 'report', 'data-report': m.id }, el('h3', {}, m.subject), el('p', { class: 'meta' }, `${m.from} · ${time(m.created_at)}`));
          art.append(renderMarkdown(m.body));
          return art;
        }),
  );
}

function status(text: string): void {
  byId('action-status').textContent = text;
}

async function act(what: string, call: () => Promise<unknown>): Promise<void> {
  try {
    await call();
    status(`${what}: done`);
  } catch (e) {
    status(`${what}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function verify(task: WireTask): void {
  void act(`verify “${task.title}”`, () => api(`/tasks/${task.id}/verify`, { method: 'POST', body: {} }));
}

async function start(): Promise<void> {
  const who = await api<WhoamiResponse>('/whoami');
  const role = who.principal.role;
  let claimSeconds = 0;
  try {
    const { settings } = await api<SettingsResponse>('/config');
    claimSeconds = Number(settings.find((s) => s.key === 'tasks.claimTimeoutSeconds')?.value ?? 0);
  } catch {
    // not shown: claims without an expiry line
  }
  const s: Session = { role, id: who.principal.id, canAct: role === 'captain' || role === 'admin', hasInbox: role !== 'observer', claimSeconds };
  byId('who').textContent = `Signed in as ${s.id} (${role})`;
  // An observer has no inbox and no history: neither is in the page, nor are any actions.
  byId('feed').hidden = !s.hasInbox;
  byId('inbox').hidden = !s.hasInbox;
  byId('reports').hidden = !s.hasInbox;
  byId('actions').hidden = !s.canAct;
  show(true);
  const feed = s.hasInbox ? new Feed() : null;
  const health = new Health();
  let queueAllowed = true;
  ticks = 0;
  const tick = async (): Promise<void> => {
    try {
      const slow = ticks % SLOW_EVERY === 0;
      ticks += 1;
      const jobs: Promise<unknown>[] = [];
      if (feed !== null) jobs.push(feed.poll(), drawInbox());
      if (slow) {
        jobs.push(
          drawRoster().then((seen) => drawBoard(s.canAct ? verify : null, s.claimSeconds, seen)),
          drawLeaderboard(),
          drawChannels().then((names) => feed?.setChannels(names)),
          health.sample(queueAllowed).catch((e: unknown) => {
            if (e instanceof ApiError && e.status === 403) queueAllowed = false;
            else throw e;
          }),
        );
        if (s.hasInbox) jobs.push(drawReports());
      }
      await Promise.all(jobs);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return signOut(`signed out: ${e.message}`);
      byId('who').textContent = `Signed in as ${s.id} (${role}) · last refresh failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (savedToken() !== null) timer = setTimeout(() => void tick(), POLL_MS);
  };
  await tick();
}

function wireForms(): void {
  byId<HTMLFormElement>('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const input = byId<HTMLInputElement>('token');
    const token = input.value.trim();
    if (token === '') return;
    saveToken(token);
    input.value = '';
    start().catch((err: unknown) => signOut(err instanceof ApiError && err.status === 401 ? 'that token was refused' : `could not sign in: ${err instanceof Error ? err.message : String(err)}`));
  });
  byId('signout').addEventListener('click', () => signOut());
  byId<HTMLFormElement>('post-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const to = byId<HTMLInputElement>('post-to').value.trim();
    const body = byId<HTMLInputElement>('post-body').value;
    void act(`send to ${to}`, () => api('/messages', { method: 'POST', body: { to, body } })).then(() => (byId<HTMLInputElement>('post-body').value = ''));
  });
  byId<HTMLFormElement>('task-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const title = byId<HTMLInputElement>('task-title').value.trim();
    const points = Number(byId<HTMLInputElement>('task-points').value);
    void act(`add task “${title}”`, () => api('/tasks', { method: 'POST', body: { title, points } }));
  });
}

wireForms();
if (savedToken() === null) show(false);
else start().catch(() => signOut('signed out: the saved token was refused'));
