// Tasks (contracts): the board's rules. Points count only once a task is verified, and a task is
// verified by someone other than its assignee. No I/O here.
import type { Agent, Role } from './agent.js';
import type { Priority } from './message.js';

export const TASK_STATUSES = ['open', 'claimed', 'done', 'verified'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const MAX_POINTS = 100_000;

export interface Task {
  id: string;
  title: string;
  description: string;
  points: number;
  /** Only agents of this role may take it; null: any role. */
  role: Role | null;
  /** Capabilities the taker must all have. */
  capabilities: string[];
  priority: Priority;
  status: TaskStatus;
  assignee: string | null;
  claimedAt: number | null;
  doneAt: number | null;
  note: string;
  verifiedAt: number | null;
  verifiedBy: string | null;
  createdBy: string;
  createdAt: number;
  /** The thread where every change of the task is posted. */
  threadId: string | null;
}

/** Whether an agent may take a task: the role matches (if one is required) and it has every capability asked. */
export function fits(agent: Pick<Agent, 'role' | 'capabilities'>, task: Pick<Task, 'role' | 'capabilities'>): boolean {
  if (task.role !== null && task.role !== agent.role) return false;
  return task.capabilities.every((c) => agent.capabilities.includes(c));
}

export interface Review {
  taskId: string;
  round: number;
  reviewer: string;
  requestedBy: string;
  requestedAt: number;
  verdict: 'approved' | 'changes' | null;
  comment: string;
  decidedAt: number | null;
}

export interface LeaderboardRow {
  agent: string;
  points: number;
  tasksVerified: number;
  tasksDone: number;
  reviewsGiven: number;
}
