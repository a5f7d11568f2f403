// Tasks of the SQLite store (the contract board) and their reviews: creation, the atomic claim of
// the best open task that fits an agent, compare-and-set updates, review rounds and verdicts, and
// the points leaderboard. The writes are functions of a connection (below the class), run on the
// writer thread (writes.ts), off the hub's event loop.
import type { Agent } from '../../domain/agent.js';
import { priorityRank } from '../../domain/message.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../../domain/task.js';
import { fits } from '../../domain/task.js';
import { type ReviewRow, type TaskRow, taskParams, toReview, toTask } from '../rows.js';
import type { NewTask, Store, TaskPatch, TaskQuery } from '../store.js';
import type { Connection } from './connection.js';
import type { WriteContext } from './writes.js';

export class Tasks implements Pick<Store, 'createTask' | 'getTask' | 'listTasks' | 'silentClaims' | 'claimNext' | 'updateTask' | 'requestReview' | 'reviewsOf' | 'decideReview' | 'leaderboard'> {
  constructor(private readonly conn: Connection) {}

  createTask(t: NewTask): Promise<Task> {
    return this.conn.write('createTask', t);
  }

  async getTask(id: string): Promise<Task | null> {
    this.conn.live();
    const row = this.conn.stmt('getTask').get(id) as TaskRow | undefined;
    return row === undefined ? null : toTask(row);
  }

  async listTasks(q: TaskQuery): Promise<Task[]> {
    this.conn.live();
    return (this.conn.stmt('listTasks').all({ status: q.status ?? null, assignee: q.assignee ?? null, limit: q.limit }) as TaskRow[]).map(toTask);
  }

  async silentClaims(silentSince: number, limit: number): Promise<Task[]> {
    this.conn.live();
    return (this.conn.stmt('silentClaims').all({ since: silentSince, limit }) as TaskRow[]).map(toTask);
  }

  claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    return this.conn.write('claimNext', { agent: { id: agent.id, role: agent.role, capabilities: agent.capabilities }, at });
  }

  updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    return this.conn.write('updateTask', { id, expected, expectedAssignee, patch });
  }

  // ---- reviews ------------------------------------------------------------------------------------

  requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    return this.conn.write('requestReview', { taskId, reviewers, by, at });
  }

  async reviewsOf(taskId: string): Promise<Review[]> {
    this.conn.live();
    return (this.conn.stmt('reviewsOf').all(taskId) as ReviewRow[]).map(toReview);
  }

  async decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    await this.conn.write('decideReview', { taskId, reviewer, verdict, comment, at });
  }

  async leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    this.conn.live();
    const rows = this.conn.stmt('leaderboard').all({ since }) as { agent: string; points: number; tasks_verified: number; tasks_done: number; reviews_given: number }[];
    return rows.map((r) => ({ agent: r.agent, points: r.points, tasksVerified: r.tasks_verified, tasksDone: r.tasks_done, reviewsGiven: r.reviews_given }));
  }
}

// ---- the writes, each in a transaction of the writer's (writes.ts) --------------------------------

export function createTask(c: WriteContext, t: NewTask): Task {
  c.stmt('insertTask').run({
    id: t.id,
    title: t.title,
    description: t.description,
    points: t.points,
    role: t.role,
    capabilities: JSON.stringify(t.capabilities),
    priority: priorityRank(t.priority),
    created_by: t.createdBy,
    created_at: t.createdAt,
  });
  return toTask(c.stmt('getTask').get(t.id) as TaskRow);
}

/** In the writer's IMMEDIATE transaction: the file's write lock makes the pick and the claim one step. */
export function claimNext(c: WriteContext, a: { agent: Pick<Agent, 'id' | 'role' | 'capabilities'>; at: number }): Task | null {
  for (const row of c.stmt('openTasks').all() as TaskRow[]) {
    const task = toTask(row);
    if (!fits(a.agent, task)) continue;
    const claimed: Task = { ...task, status: 'claimed', assignee: a.agent.id, claimedAt: a.at };
    c.stmt('updateTask').run(taskParams(claimed));
    return claimed;
  }
  return null;
}

export function updateTask(c: WriteContext, a: { id: string; expected: TaskStatus; expectedAssignee: string | null | undefined; patch: TaskPatch }): Task | null {
  const row = c.stmt('getTask').get(a.id) as TaskRow | undefined;
  if (row === undefined) return null;
  const task = toTask(row);
  if (task.status !== a.expected) return null;
  if (a.expectedAssignee !== undefined && task.assignee !== a.expectedAssignee) return null;
  const next: Task = { ...task, ...a.patch };
  c.stmt('updateTask').run(taskParams(next));
  return next;
}

export function requestReview(c: WriteContext, a: { taskId: string; reviewers: string[]; by: string; at: number }): number {
  const round = (c.stmt('maxRound').get(a.taskId) as { n: number }).n + 1;
  for (const r of a.reviewers) c.stmt('insertReview').run(a.taskId, round, r, a.by, a.at);
  return round;
}

export function decideReview(c: WriteContext, a: { taskId: string; reviewer: string; verdict: 'approved' | 'changes'; comment: string; at: number }): null {
  const round = Math.max(1, (c.stmt('maxRound').get(a.taskId) as { n: number }).n);
  c.stmt('insertReview').run(a.taskId, round, a.reviewer, a.reviewer, a.at);
  c.stmt('decideReview').run({ task_id: a.taskId, round, reviewer: a.reviewer, verdict: a.verdict, comment: a.comment, at: a.at });
  return null;
}
