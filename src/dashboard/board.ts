// The contract board (open / claimed / done / verified), the leaderboard, the roster and the
// channel list, redrawn from the hub's answers at each poll.
import type { LeaderboardResponse, TaskShowResponse, WireAgent, WireChannel, WireTask } from '../api/schemas.js';
import { api } from './api.js';
import { age, byId, el, fill } from './dom.js';

const COLUMNS = ['open', 'claimed', 'done', 'verified'] as const;
/** Done tasks whose reviews are fetched each redraw (one request each); the rest say "reviews: see swarm task show". */
const REVIEWED_MAX = 20;

/** "Agent-7: approved, Agent-2: pending" for a done task's latest review round. */
async function reviewsOf(id: string): Promise<string> {
  const { reviews } = await api<TaskShowResponse>(`/tasks/${id}`);
  const round = Math.max(0, ...reviews.map((r) => r.round));
  const latest = reviews.filter((r) => r.round === round);
  return latest.length === 0 ? 'no review asked' : `reviews: ${latest.map((r) => `${r.reviewer} ${r.verdict ?? 'pending'}`).join(', ')}`;
}

/** `verify`: set for a role that may verify (captain, admin): a button on each done task. */
/** `lastSeen`: each agent's last sign of life; a claim ends after `claimSeconds` of its assignee's silence. */
export async function drawBoard(verify: ((task: WireTask) => void) | null, claimSeconds: number, lastSeen: Map<string, string | null>): Promise<void> {
  const { tasks } = await api<{ tasks: WireTask[] }>('/tasks?limit=1000');
  const now = Date.now();
  const done = tasks.filter((t) => t.status === 'done').slice(0, REVIEWED_MAX);
  const reviews = new Map(await Promise.all(done.map(async (t) => [t.id, await reviewsOf(t.id)] as const)));
  for (const col of COLUMNS) {
    const cards = tasks.filter((t) => t.status === col).map((t) => {
      const li = el('li', { 'data-task': t.id, 'data-status': t.status });
      li.append(el('strong', {}, t.title), el('div', { class: 'meta' }, `${t.points} pts · ${t.priority} · ${t.assignee ?? 'unassigned'} · ${age(t.created_at, now)} old`));
      if (t.status === 'claimed' && t.claimed_at !== null && claimSeconds > 0) {
        const seen = lastSeen.get(t.assignee ?? '') ?? null;
        const from = Math.max(Date.parse(t.claimed_at), seen === null ? 0 : Date.parse(seen));
        const left = Math.round((from + claimSeconds * 1000 - now) / 1000);
        li.append(el('div', { class: 'meta' }, left > 0 ? `claim expires in ${left < 120 ? `${left} s` : `${Math.ceil(left / 60)} min`} without word from ${t.assignee ?? ''}` : 'claim expiring'));
      }
      if (t.status === 'done' && t.note !== '') li.append(el('div', { class: 'meta' }, `note: ${t.note.slice(0, 200)}`));
      if (t.status === 'done') li.append(el('div', { class: 'meta' }, reviews.get(t.id) ?? 'reviews: see swarm task show'));
      if (t.status === 'verified' && t.verified_by !== null) li.append(el('div', { class: 'meta' }, `verified by ${t.verified_by}`));
      if (t.status === 'done' && verify !== null) {
        const b = el('button', { type: 'button', 'aria-label': `Verify ${t.title}` }, 'Verify');
        b.addEventListener('click', () => verify(t));
        li.append(b);
      }
      return li;
    });
    fill(byId(`board-${col}`), cards.length === 0 ? [el('li', { class: 'meta' }, 'none')] : cards);
  }
}

export async function drawLeaderboard(): Promise<void> {
  const { agents } = await api<LeaderboardResponse>('/leaderboard');
  fill(
    byId('leader-rows'),
    agents.map((a) => el('tr', {}, el('td', {}, a.agent), el('td', {}, String(a.points)), el('td', {}, String(a.tasks_verified)), el('td', {}, String(a.reviews_given)))),
  );
}

/** Returns each agent's last sign of life. */
export async function drawRoster(): Promise<Map<string, string | null>> {
  const { agents } = await api<{ agents: WireAgent[] }>('/agents');
  fill(
    byId('roster-rows'),
    agents.map((a) =>
      el('tr', { 'data-agent': a.id }, el('td', {}, a.id), el('td', {}, a.role), el('td', { class: `p-${a.presence}` }, a.presence === a.status ? a.presence : `${a.presence} (last set ${a.status})`), el('td', {}, a.mission)),
    ),
  );
  return new Map(agents.map((a) => [a.id, a.last_seen_at]));
}

export async function drawChannels(): Promise<string[]> {
  const { channels } = await api<{ channels: WireChannel[] }>('/channels');
  fill(byId('channel-list'), channels.map((c) => el('li', {}, el('strong', {}, `#${c.name}`), ` · ${c.members} members${c.description === '' ? '' : ` · ${c.description}`}`)));
  return channels.map((c) => c.name);
}
