// Task tools: the board, taking the next task that fits, claiming, finishing, releasing, peer
// review (request, approve, ask for changes) and the leaderboard.
import { z } from 'zod';
import { AgentId, DoneBody, TaskBody, TaskId } from '../../api/schemas.js';
import { compactTask } from '../compact.js';
import { invalid, tool, type ToolDef } from '../tool.js';

const Id = z.strictObject({ id: TaskId });

export const TASK_TOOLS: ToolDef[] = [
  tool({
    name: 'task_list',
    description: 'The task board: id, title, points, status, assignee. Filter by status or your own.',
    input: z.strictObject({ status: z.enum(['open', 'claimed', 'done', 'verified']).optional(), mine: z.boolean().optional(), limit: z.number().int().min(1).max(1000).default(50) }),
    readOnly: true,
    run: async ({ client }, a) => ({ tasks: (await client.tasks(a)).tasks.map((t) => compactTask(t)) }),
  }),
  tool({
    name: 'task_next',
    description: 'Claim the most urgent open task that fits your role and capabilities. Returns it, or task null when none fits.',
    input: z.strictObject({}),
    run: async ({ client }) => {
      try {
        const r = await client.nextTask();
        return { task: r.task === null ? null : compactTask(r.task, { full: true }) };
      } catch (e) {
        // "Nothing fits" is an answer, not a failure, for a model looking for work.
        if ((e as { code?: string }).code === 'task_not_found') return { task: null };
        throw e;
      }
    },
  }),
  tool({
    name: 'task_claim',
    description: 'Claim one open task by id.',
    input: Id,
    run: async ({ client }, a) => compactTask((await client.taskAction(a.id, 'claim')).task),
  }),
  tool({
    name: 'task_done',
    description: 'Mark your claimed task done, with a note on what you did. Then ask for a review.',
    input: Id.extend(DoneBody.shape),
    run: async ({ client }, a) => compactTask((await client.taskDone(a.id, a.note)).task),
  }),
  tool({
    name: 'task_release',
    description: 'Give a claimed task back to the board.',
    input: Id,
    run: async ({ client }, a) => compactTask((await client.taskAction(a.id, 'release')).task),
  }),
  tool({
    name: 'task_add',
    description: 'Put a task on the board (captains and admins): title, points, optional role and capabilities.',
    input: TaskBody,
    run: async ({ client }, a) => compactTask((await client.addTask(a)).task),
  }),
  tool({
    name: 'review',
    description:
      'Peer review of a done task. action request: ask reviewers (you did the task). approve: verify it (you were asked; points are paid). changes: send it back with a comment.',
    input: z.strictObject({
      id: TaskId,
      action: z.enum(['request', 'approve', 'changes']),
      reviewers: z.array(AgentId).min(1).max(20).optional().describe('for request'),
      comment: z.string().max(10_000).optional(),
    }),
    run: async ({ client }, a) => {
      if (a.action === 'request') {
        if (a.reviewers === undefined) throw invalid('reviewers', 'action request needs reviewers: one or more agent ids');
        const r = await client.requestReview(a.id, a.reviewers);
        return { task: compactTask(r.task), round: r.round };
      }
      if (a.action === 'changes') {
        if (a.comment === undefined || a.comment.trim() === '') throw invalid('comment', 'action changes needs a comment saying what should change');
        return { task: compactTask((await client.requestChanges(a.id, a.comment)).task) };
      }
      return { task: compactTask((await client.approve(a.id, a.comment)).task) };
    },
  }),
  tool({
    name: 'leaderboard',
    description: 'Points per agent from verified tasks, with tasks done and reviews given.',
    input: z.strictObject({ since: z.iso.datetime({ offset: true }).optional() }),
    readOnly: true,
    run: async ({ client }, a) => client.leaderboard(a.since),
  }),
];
