// /v1/tasks, /v1/leaderboard: the contract board, peer review and points.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  ApproveBody,
  ChangesBody,
  DoneBody,
  LeaderboardQuery,
  LeaderboardResponse,
  NextTaskResponse,
  ReviewRequestBody,
  ReviewRequestResponse,
  TaskBody,
  TaskParams,
  TaskResponse,
  TaskShowResponse,
  TasksQuery,
  TasksResponse,
} from '../../api/schemas.js';
import { wireReview, wireTask } from '../../api/wire.js';
import type { Hub } from '../../hub/hub.js';

export function taskRoutes(hub: Hub): FastifyPluginAsyncZod {
  return async (app) => {
    app.post('/tasks', {
      schema: { summary: 'Put a task (contract) on the board (captains and admins)', body: TaskBody, response: { 201: TaskResponse } },
      handler: async (req, reply) => reply.code(201).send({ task: wireTask(await hub.tasks.add(req.actor, req.body)) }),
    });
    app.get('/tasks', {
      schema: { summary: 'The board: open tasks by priority then age, then the rest newest first', querystring: TasksQuery, response: { 200: TasksResponse } },
      handler: async (req) => ({ tasks: (await hub.tasks.list(req.actor, req.query)).map(wireTask) }),
    });
    app.get('/tasks/:id', {
      schema: { summary: 'One task with its reviews', params: TaskParams, response: { 200: TaskShowResponse } },
      handler: async (req) => {
        const r = await hub.tasks.show(req.actor, req.params.id);
        return { task: wireTask(r.task), reviews: r.reviews.map(wireReview) };
      },
    });
    app.post('/tasks/next', {
      schema: { summary: 'Atomically claim the best open task that fits the caller (null when none)', response: { 200: NextTaskResponse } },
      handler: async (req) => {
        const t = await hub.tasks.next(req.actor);
        return { task: t === null ? null : wireTask(t) };
      },
    });
    app.post('/tasks/:id/claim', {
      schema: { summary: 'Claim an open task', params: TaskParams, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.claim(req.actor, req.params.id)) }),
    });
    app.post('/tasks/:id/done', {
      schema: { summary: 'Mark one’s claimed task done (it still needs a review)', params: TaskParams, body: DoneBody, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.done(req.actor, req.params.id, req.body.note)) }),
    });
    app.post('/tasks/:id/release', {
      schema: { summary: 'Give a claimed task back to the board', params: TaskParams, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.release(req.actor, req.params.id)) }),
    });
    app.post('/tasks/:id/verify', {
      schema: { summary: 'Verify a done task without a review (captains and admins)', params: TaskParams, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.verify(req.actor, req.params.id)) }),
    });
    app.post('/tasks/:id/reviews', {
      schema: { summary: 'Ask reviewers to review a done task', params: TaskParams, body: ReviewRequestBody, response: { 200: ReviewRequestResponse } },
      handler: async (req) => {
        const r = await hub.tasks.requestReview(req.actor, req.params.id, req.body.reviewers);
        return { task: wireTask(r.task), round: r.round };
      },
    });
    app.post('/tasks/:id/approve', {
      schema: { summary: 'Approve a done task: it is verified and its points count', params: TaskParams, body: ApproveBody, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.approve(req.actor, req.params.id, req.body.comment)) }),
    });
    app.post('/tasks/:id/changes', {
      schema: { summary: 'Ask for changes: the task goes back to its assignee', params: TaskParams, body: ChangesBody, response: { 200: TaskResponse } },
      handler: async (req) => ({ task: wireTask(await hub.tasks.changes(req.actor, req.params.id, req.body.comment)) }),
    });
    app.get('/leaderboard', {
      schema: { summary: 'Verified points, tasks and reviews per agent', querystring: LeaderboardQuery, response: { 200: LeaderboardResponse } },
      handler: async (req) => {
        const since = req.query.since === undefined ? undefined : Date.parse(req.query.since);
        const rows = await hub.tasks.leaderboard(req.actor, since);
        return {
          since: req.query.since ?? null,
          agents: rows.map((r) => ({ agent: r.agent, points: r.points, tasks_verified: r.tasksVerified, tasks_done: r.tasksDone, reviews_given: r.reviewsGiven })),
        };
      },
    });
  };
}
