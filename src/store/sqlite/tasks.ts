// Tasks of the SQLite store (the contract board) and their reviews: creation, the atomic claim of
// the best open task that fits an agent, compare-and-set updates, review rounds and verdicts, and
// the points leaderboard.
import type { Agent } from '../../domain/agent.js';
import { priorityRank } from '../../domain/message.js';
import type { LeaderboardRow, Review, Task, TaskStatus } from '../../domain/task.js';
import { fits } from '../../domain/task.js';
import { type ReviewRow, type TaskRow, taskParams, toReview, toTask } from '../rows.js';
import type { NewTask, Store, TaskPatch, TaskQuery } from '../store.js';
import type { Connection } from './connection.js';

export class Tasks implements Pick<Store, 'createTask' | 'getTask' | 'listTasks' | 'silentClaims' | 'claimNext' | 'updateTask' | 'requestReview' | 'reviewsOf' | 'decideReview' | 'leaderboard'> {
  constructor(private readonly conn: Connection) {}

  async createTask(t: NewTask): Promise<Task> {
    this.conn.live();
    this.conn.stmt('insertTask').run({
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
    return toTask(this.conn.stmt('getTask').get(t.id) as TaskRow);
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

  async claimNext(agent: Pick<Agent, 'id' | 'role' | 'capabilities'>, at: number): Promise<Task | null> {
    this.conn.live();
    // One IMMEDIATE transaction: the file's write lock makes the pick and the claim one step.
    return this.conn.db
      .transaction((): Task | null => {
        for (const row of this.conn.stmt('openTasks').all() as TaskRow[]) {
          const task = toTask(row);
          if (!fits(agent, task)) continue;
          const claimed: Task = { ...task, status: 'claimed', assignee: agent.id, claimedAt: at };
          this.conn.stmt('updateTask').run(taskParams(claimed));
          return claimed;
        }
        return null;
      })
      .immediate();
  }

  async updateTask(id: string, expected: TaskStatus, expectedAssignee: string | null | undefined, patch: TaskPatch): Promise<Task | null> {
    this.conn.live();
    return this.conn.db
      .transaction((): Task | null => {
        const row = this.conn.stmt('getTask').get(id) as TaskRow | undefined;
        if (row === undefined) return null;
        const task = toTask(row);
        if (task.status !== expected) return null;
        if (expectedAssignee !== undefined && task.assignee !== expectedAssignee) return null;
        const next: Task = { ...task, ...patch };
        this.conn.stmt('updateTask').run(taskParams(next));
        return next;
      })
      .immediate();
  }

  // ---- reviews ------------------------------------------------------------------------------------

  async requestReview(taskId: string, reviewers: string[], by: string, at: number): Promise<number> {
    this.conn.live();
    return this.conn.db.transaction(() => {
      const round = (this.conn.stmt('maxRound').get(taskId) as { n: number }).n + 1;
      for (const r of reviewers) this.conn.stmt('insertReview').run(taskId, round, r, by, at);
      return round;
    }).immediate();
  }

  async reviewsOf(taskId: string): Promise<Review[]> {
    this.conn.live();
    return (this.conn.stmt('reviewsOf').all(taskId) as ReviewRow[]).map(toReview);
  }

  async decideReview(taskId: string, reviewer: string, verdict: 'approved' | 'changes', comment: string, at: number): Promise<void> {
    this.conn.live();
    this.conn.db.transaction(() => {
      const round = Math.max(1, (this.conn.stmt('maxRound').get(taskId) as { n: number }).n);
      this.conn.stmt('insertReview').run(taskId, round, reviewer, reviewer, at);
      this.conn.stmt('decideReview').run({ task_id: taskId, round, reviewer, verdict, comment, at });
    }).immediate();
  }

  async leaderboard(since: number | null): Promise<LeaderboardRow[]> {
    this.conn.live();
    const rows = this.conn.stmt('leaderboard').all({ since }) as { agent: string; points: number; tasks_verified: number; tasks_done: number; reviews_given: number }[];
    return rows.map((r) => ({ agent: r.agent, points: r.points, tasksVerified: r.tasks_verified, tasksDone: r.tasks_done, reviewsGiven: r.reviews_given }));
  }
}
