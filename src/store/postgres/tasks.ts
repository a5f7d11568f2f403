// Tasks of the PostgreSQL store, their review rounds and the leaderboard. Several processes share
// one board: a task is claimed with a conditional update (still open?), updated under a row lock,
// and the review rounds of a task are serialised by a lock on its reviews.
import type { Agent } from '../../domain/agent.js';
import { priorityRank } from '../../domain/message.js';
import { type LeaderboardRow, type Review, type Task, type TaskStatus } from '../../domain/task.js';
import { HubError } from '../../errors.js';
import { type ReviewRow, type TaskRow, taskParams, toReview, toTask } from '../rows.js';
import type { NewTask, Store, TaskPatch, TaskQuery } from '../store.js';
import type { Connection } from './connection.js';
import { refuseNul } from './nul.js';

export class Tasks implements Pick<Store, 'createTask' | 'getTask' | 'listTasks' | 'claimNext' | 'silentClaims' | 'updateTask' | 'requestReview' | 'reviewsOf' | 'decideReview' | 'leaderboard'> {
  constructor(private readonly conn: Connection) {}

  async createTask(t: NewTask): Promise<Task> {
    this.conn.live();
    const bad = refuseNul('the task', t.id, t.title, t.description, t.createdBy, ...t.capabilities);
    if (bad !== null) throw bad;
    const [row] = await this.conn.rows<TaskRow>('insertTask', [
      t.id,
      t.title,
      t.description,
      t.points,
      t.role,
      JSON.stringify(t.capabilities),
      priorityRank(t.priority),
      t.createdBy,
      t.createdAt,
    ]);
    if (row === undefined) throw new HubError('internal', `task ${t.id} was not stored`);
    return toTask(row);
  }

  async getTask(id: string): Promise<Task | null> {
    this.conn.live();
    if (id.includes('\0')) return null;
    const [row] = await this.conn.rows<TaskRow>('getTask', [id]);
    return row === undefined ? null : toTask(row);
  }

  async listTasks(q: TaskQuery): Promise<Task[]> {
    this.conn.live();
    if (q.assignee?.includes('\0') === true) return [];
    return (await this.conn.rows<TaskRow>('listTasks', [q.status ?? null, q.assignee ?? null, q.limit])).map(toTask);
  }

  async silentClaims(silentSince: number, limit: number): Promise<Task[]> {
    this.conn.live();
    return (await this.conn.rows<TaskRow>('silentClaims', [silentSince, limit])).map(toTask);
  }

  /** One statement: the best open task that fits, found by index and claimed (claimNext in queries/tasks.sql). */
  async claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    this.conn.live();
    const [row] = await this.conn.rows<TaskRow>('claimNext', [agent.id, agent.role, JSON.stringify(agent.capabilities), at]);
    return row === undefined ? null : toTask(row);
  }

  async updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    this.conn.live();
    const bad = refuseNul('the task update', patch.note ?? null, patch.assignee ?? null, patch.verifiedBy ?? null, patch.threadId ?? null);
    if (bad !== null) throw bad;
    if (id.includes('\0')) return null;
    return this.conn.tx(async (c): Promise<Task | null> => {
      const [row] = await this.conn.rows<TaskRow>('lockTask', [id], c);
      if (row === undefined) return null;
      const task = toTask(row);
      if (task.status !== expected) return null;
      if (expectedAssignee !== undefined && task.assignee !== expectedAssignee) return null;
      const next: Task = { ...task, ...patch };
      const p = taskParams(next);
      await this.conn.q('updateTask', [p.id, p.status, p.assignee, p.claimed_at, p.done_at, p.note, p.verified_at, p.verified_by, p.thread_id], c);
      return next;
    });
  }

  async requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    this.conn.live();
    const bad = refuseNul('the review request', taskId, by, ...reviewers);
    if (bad !== null) throw bad;
    return this.conn.tx(async (c) => {
      await this.conn.q('lockReviews', [taskId], c);
      const round = ((await this.conn.rows<{ n: number }>('maxRound', [taskId], c))[0]?.n ?? 0) + 1;
      if (reviewers.length > 0) await this.conn.q('insertReviews', [taskId, round, reviewers, by, at], c);
      return round;
    });
  }

  async reviewsOf(taskId: string): Promise<Review[]> {
    this.conn.live();
    if (taskId.includes('\0')) return [];
    return (await this.conn.rows<ReviewRow>('reviewsOf', [taskId])).map(toReview);
  }

  async decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    this.conn.live();
    const bad = refuseNul('the review', taskId, reviewer, comment);
    if (bad !== null) throw bad;
    await this.conn.tx(async (c) => {
      await this.conn.q('lockReviews', [taskId], c);
      const round = Math.max(1, (await this.conn.rows<{ n: number }>('maxRound', [taskId], c))[0]?.n ?? 0);
      await this.conn.q('insertReviews', [taskId, round, [reviewer], reviewer, at], c);
      await this.conn.q('decideReview', [taskId, round, reviewer, verdict, comment, at], c);
    });
  }

  async leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    this.conn.live();
    const rows = await this.conn.rows<{ agent: string; points: number; tasks_verified: number; tasks_done: number; reviews_given: number }>('leaderboard', [since]);
    return rows.map((r) => ({ agent: r.agent, points: r.points, tasksVerified: r.tasks_verified, tasksDone: r.tasks_done, reviewsGiven: r.reviews_given }));
  }
}
