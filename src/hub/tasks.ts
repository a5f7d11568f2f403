// The contract board: tasks worth points, claimed without collisions, done, reviewed by someone
// other than the assignee, verified. Points are credited on `verified`, never on `done`. Every
// change is posted as a message in the task's thread, to everyone involved and the captains.
import { newId } from '../domain/ids.js';
import type { Role } from '../domain/agent.js';
import { SYSTEM_ID } from '../domain/agent.js';
import type { Priority } from '../domain/message.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../domain/task.js';
import { fits, MAX_POINTS } from '../domain/task.js';
import { HubError } from '../errors.js';
import type { Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize, may, SYSTEM_ACTOR } from './actor.js';
import type { Messages } from './messages.js';
import type { PresenceTracker } from './presence.js';

export interface NewTaskInput {
  title: string;
  description?: string | undefined;
  points: number;
  role?: Role | undefined;
  capabilities?: string[] | undefined;
  priority?: Priority | undefined;
}

/** Claims ended per sweep at most (the next sweep, a second later, takes the rest). */
const CLAIM_EXPIRY_BATCH = 500;

export type TaskEvent = 'added' | 'claimed' | 'done' | 'released' | 'verified' | 'changes' | 'expired';

export class Tasks {
  constructor(
    private readonly store: Store,
    private readonly messages: Messages,
    private readonly presence: PresenceTracker,
    private readonly now: () => number,
    private readonly claimTimeoutMs: () => number,
    /** Told of every task change (metrics). */
    private readonly onEvent: (event: TaskEvent, t: Task) => void,
  ) {}

  private async must(id: string): Promise<Task> {
    const t = await this.store.getTask(id);
    if (t === null) throw new HubError('task_not_found', `no task ${id} (see \`swarm task list\`)`, { details: { task: id } });
    return t;
  }

  private conflict(t: Task, wanted: string): HubError {
    const who = t.assignee === null ? '' : ` (assignee ${t.assignee})`;
    return new HubError('task_conflict', `task ${t.id} is ${t.status}${who}: cannot ${wanted}`, { details: { task: t.id, status: t.status } });
  }

  private manages(actor: Actor): boolean {
    return may(actor, 'task.manage');
  }

  /** Posts a task event in the task's thread (starting it on creation). */
  private async post(actor: Actor, t: Task, text: string, extra: string[] = []): Promise<Task> {
    const captains = (await this.store.listAgents()).filter((a) => a.role === 'captain').map((a) => a.id);
    const reviewers = (await this.store.reviewsOf(t.id)).map((r) => r.reviewer);
    const people = new Set([t.createdBy, ...(t.assignee === null ? [] : [t.assignee]), ...reviewers, ...captains, ...extra]);
    people.delete(actor.self.id);
    for (const id of [...people]) if (id === SYSTEM_ID || (await this.store.getAgent(id)) === null) people.delete(id);
    const to = people.size > 0 ? [...people] : [actor.self.id];
    const body = `${text}\n\nTask ${t.id}: ${t.title} (${t.points} points) — ${t.status}${t.assignee === null ? '' : `, ${t.assignee}`}`;
    const sent = await this.messages.send(actor, {
      to,
      type: 'task',
      subject: `[task] ${t.title}`,
      body,
      metadata: { task: t.id, status: t.status, points: t.points },
      ...(t.threadId === null ? {} : { threadId: t.threadId }),
    }, { trustThread: true, hubEvent: true });
    if (t.threadId === null) return (await this.store.updateTask(t.id, t.status, undefined, { threadId: sent.message.threadId })) ?? t;
    return t;
  }

  async add(actor: Actor, input: NewTaskInput): Promise<Task> {
    authorize(actor, 'task.create', 'put tasks on the board');
    if (!Number.isInteger(input.points) || input.points < 0 || input.points > MAX_POINTS) {
      throw new HubError('validation_failed', `points must be a whole number from 0 to ${MAX_POINTS}, not ${input.points}`);
    }
    const t = await this.store.createTask({
      id: newId(this.now()),
      title: input.title,
      description: input.description ?? '',
      points: input.points,
      role: input.role ?? null,
      capabilities: input.capabilities ?? [],
      priority: input.priority ?? 'regular',
      createdBy: actor.self.id,
      createdAt: this.now(),
    });
    this.onEvent('added', t);
    return this.post(actor, t, `New task on the board, worth ${t.points} points.${t.description ? `\n\n${t.description}` : ''}`);
  }

  async list(actor: Actor, q: { status?: TaskStatus | undefined; mine?: boolean | undefined; limit: number }): Promise<Task[]> {
    authorize(actor, 'agent.list', 'see the board');
    return this.store.listTasks({ status: q.status, assignee: q.mine === true ? actor.self.id : undefined, limit: q.limit });
  }

  async show(actor: Actor, id: string): Promise<{ task: Task; reviews: Review[] }> {
    authorize(actor, 'agent.list', 'see the board');
    const task = await this.must(id);
    return { task, reviews: await this.store.reviewsOf(id) };
  }

  /** Claims the best open task that fits the caller: priority first, then age. Null: none fits. */
  async next(actor: Actor): Promise<Task | null> {
    authorize(actor, 'task.work', 'claim tasks');
    const t = await this.store.claimNext(actor.self, this.now());
    if (t !== null) this.onEvent('claimed', t);
    return t === null ? null : this.post(actor, t, `${actor.self.id} claimed the task.`);
  }

  async claim(actor: Actor, id: string): Promise<Task> {
    authorize(actor, 'task.work', 'claim tasks');
    const t = await this.must(id);
    if (t.status !== 'open') throw this.conflict(t, 'claim it');
    if (!fits(actor.self, t)) {
      throw new HubError('forbidden', `task ${t.id} needs ${t.role === null ? '' : `role ${t.role} `}${t.capabilities.length > 0 ? `capabilities ${t.capabilities.join(', ')}` : ''}; ${actor.self.id} does not fit`.replace(/ ;/, ';'));
    }
    const claimed = await this.store.updateTask(id, 'open', undefined, { status: 'claimed', assignee: actor.self.id, claimedAt: this.now() });
    if (claimed === null) throw this.conflict(await this.must(id), 'claim it');
    this.onEvent('claimed', claimed);
    return this.post(actor, claimed, `${actor.self.id} claimed the task.`);
  }

  async done(actor: Actor, id: string, note: string | undefined): Promise<Task> {
    authorize(actor, 'task.work', 'mark tasks done');
    const t = await this.must(id);
    if (t.assignee !== actor.self.id) {
      throw new HubError('forbidden', `task ${t.id} is ${t.assignee === null ? 'not claimed' : `held by ${t.assignee}`}: only its assignee marks it done`);
    }
    if (t.status !== 'claimed') throw this.conflict(t, 'mark it done');
    const done = await this.store.updateTask(id, 'claimed', actor.self.id, { status: 'done', doneAt: this.now(), note: note ?? '' });
    if (done === null) throw this.conflict(await this.must(id), 'mark it done');
    this.onEvent('done', done);
    return this.post(actor, done, `${actor.self.id} marked the task done.${note ? `\n\nNote: ${note}` : ''} It needs a review before its points count.`);
  }

  async release(actor: Actor, id: string): Promise<Task> {
    authorize(actor, 'task.work', 'release tasks');
    const t = await this.must(id);
    if (t.status !== 'claimed') throw this.conflict(t, 'release it');
    if (t.assignee !== actor.self.id && !this.manages(actor)) throw new HubError('forbidden', `task ${t.id} is held by ${t.assignee ?? 'nobody'}: only its assignee or a captain releases it`);
    const open = await this.store.updateTask(id, 'claimed', t.assignee, { status: 'open', assignee: null, claimedAt: null });
    if (open === null) throw this.conflict(await this.must(id), 'release it');
    this.onEvent('released', t);
    return this.post(actor, open, `${actor.self.id} released the task; it is open again.`, t.assignee === null ? [] : [t.assignee]);
  }

  /** Captains and admins verify a done task without a review. */
  async verify(actor: Actor, id: string): Promise<Task> {
    authorize(actor, 'task.manage', 'verify tasks without a review');
    return this.verifyAs(actor, await this.must(id), `${actor.self.id} verified the task.`);
  }

  private async verifyAs(actor: Actor, t: Task, text: string): Promise<Task> {
    if (t.status !== 'done') throw this.conflict(t, 'verify it');
    if (t.assignee === actor.self.id) throw new HubError('forbidden', `${actor.self.id} is the assignee of ${t.id}: someone else must verify it`);
    const v = await this.store.updateTask(t.id, 'done', t.assignee, { status: 'verified', verifiedAt: this.now(), verifiedBy: actor.self.id });
    if (v === null) throw this.conflict(await this.must(t.id), 'verify it');
    this.onEvent('verified', v);
    return this.post(actor, v, `${text} ${v.points} points to ${v.assignee ?? 'nobody'}.`);
  }

  async requestReview(actor: Actor, id: string, reviewers: string[]): Promise<{ task: Task; round: number }> {
    authorize(actor, 'task.work', 'ask for reviews');
    const t = await this.must(id);
    if (t.assignee !== actor.self.id && !this.manages(actor)) throw new HubError('forbidden', `only the assignee of ${t.id} (${t.assignee ?? 'nobody'}) or a captain asks for its review`);
    if (t.status !== 'done') throw this.conflict(t, 'ask for a review (mark it done first)');
    const list = [...new Set(reviewers)];
    if (list.length === 0) throw new HubError('validation_failed', 'name at least one reviewer');
    for (const r of list) {
      if (r === t.assignee) throw new HubError('validation_failed', `${r} is the assignee of ${t.id}: a reviewer must be someone else`);
      if ((await this.store.getAgent(r)) === null) throw new HubError('agent_not_found', `unknown reviewer ${r}`, { details: { agent: r } });
    }
    const round = await this.store.requestReview(t.id, list, actor.self.id, this.now());
    await this.messages.send(actor, {
      to: list,
      type: 'review',
      priority: 'high',
      subject: `[review] ${t.title}`,
      body: `Please review task ${t.id}: ${t.title} (${t.points} points), done by ${t.assignee ?? 'nobody'}.${t.note ? `\n\nNote: ${t.note}` : ''}\n\nApprove: swarm review approve ${t.id} [--comment TEXT]\nAsk for changes: swarm review changes ${t.id} --comment TEXT`,
      metadata: { task: t.id, round },
      ...(t.threadId === null ? {} : { threadId: t.threadId }),
    }, { trustThread: true, hubEvent: true });
    return { task: t, round };
  }

  /** A requested reviewer (or a captain) approves: the task is verified and its points count. */
  async approve(actor: Actor, id: string, comment: string | undefined): Promise<Task> {
    const t = await this.must(id);
    await this.mayReview(actor, t);
    if (t.status !== 'done') throw this.conflict(t, 'approve it');
    await this.store.decideReview(t.id, actor.self.id, 'approved', comment ?? '', this.now());
    return this.verifyAs(actor, t, `${actor.self.id} approved the task${comment ? `: ${comment}` : '.'}`);
  }

  /** A reviewer asks for changes: the task goes back to its assignee. */
  async changes(actor: Actor, id: string, comment: string): Promise<Task> {
    const t = await this.must(id);
    await this.mayReview(actor, t);
    if (comment.trim() === '') throw new HubError('validation_failed', 'say what should change (--comment)');
    if (t.status !== 'done') throw this.conflict(t, 'ask for changes');
    await this.store.decideReview(t.id, actor.self.id, 'changes', comment, this.now());
    const back = await this.store.updateTask(t.id, 'done', t.assignee, { status: 'claimed', doneAt: null });
    if (back === null) throw this.conflict(await this.must(id), 'ask for changes');
    this.onEvent('changes', back);
    return this.post(actor, back, `${actor.self.id} asked for changes: ${comment}`);
  }

  private async mayReview(actor: Actor, t: Task): Promise<void> {
    authorize(actor, 'task.work', 'review tasks');
    if (t.assignee === actor.self.id) throw new HubError('forbidden', `${actor.self.id} is the assignee of ${t.id} and cannot review its own task`);
    if (this.manages(actor)) return;
    const rounds = await this.store.reviewsOf(t.id);
    const latest = Math.max(0, ...rounds.map((r) => r.round));
    if (!rounds.some((r) => r.round === latest && r.reviewer === actor.self.id)) {
      throw new HubError('forbidden', `${actor.self.id} was not asked to review ${t.id}`);
    }
  }

  async leaderboard(actor: Actor, since: number | undefined): Promise<LeaderboardRow[]> {
    authorize(actor, 'agent.list', 'see the leaderboard');
    return this.store.leaderboard(since ?? null);
  }

  /**
   * Claims are leases on the assignee's presence: a task whose assignee has been silent longer
   * than tasks.claimTimeoutSeconds returns to the board, and the captains are told.
   */
  async expireClaims(): Promise<Task[]> {
    const now = this.now();
    const released: Task[] = [];
    // The store's candidates (silent as far as flushed sightings go), checked against this
    // process's own sightings and streams before a claim ends.
    for (const t of await this.store.silentClaims(now - this.claimTimeoutMs(), CLAIM_EXPIRY_BATCH)) {
      if (t.assignee === null) continue;
      const agent = await this.store.getAgent(t.assignee);
      const seen = agent === null ? null : this.presence.lastSeen(agent);
      const since = Math.max(seen ?? 0, t.claimedAt ?? 0);
      if (now - since < this.claimTimeoutMs()) continue;
      const open = await this.store.updateTask(t.id, 'claimed', t.assignee, { status: 'open', assignee: null, claimedAt: null });
      if (open === null) continue;
      this.onEvent('expired', t);
      const silent = Math.round((now - since) / 1000);
      released.push(await this.post(SYSTEM_ACTOR, open, `${t.assignee} has been silent for ${silent} s (limit ${Math.round(this.claimTimeoutMs() / 1000)} s): the claim ended and the task is open again.`, [t.assignee]));
    }
    return released;
  }
}
