// Performs the demo's events against the hub, each as the agent it belongs to, with that agent's
// own token, through the client SDK: exactly what a real agent's calls would be. Returns the line
// the terminal shows for it.
import type { Swarm } from '../../client/client.js';
import type { Event, SimTask } from './plan.js';

const task = (t: SimTask): string => `"${t.title}" (${t.points} points)`;

/** Puts tasks on the board as the captain; each gets the hub's id. */
export async function addTasks(captain: Swarm, tasks: SimTask[]): Promise<void> {
  for (const t of tasks) {
    const r = await captain.addTask({ title: t.title, description: t.description, points: t.points, capabilities: [t.capability] });
    t.id = r.task.id;
  }
}

export async function perform(e: Event, as: (agent: string) => Swarm): Promise<string> {
  const c = as(e.agent);
  switch (e.kind) {
    case 'chat':
      await c.send({ to: e.to, type: e.type, subject: e.subject, body: e.body });
      return `→ ${e.to}: ${e.body}`;
    case 'claim':
      await c.taskAction(e.task.id, 'claim');
      return `claimed ${task(e.task)}`;
    case 'done':
      await c.taskDone(e.task.id, e.note);
      return `finished ${task(e.task)}: ${e.note}`;
    case 'review':
      await c.requestReview(e.task.id, [e.reviewer]);
      return `asked ${e.reviewer} to review ${task(e.task)}`;
    case 'approve':
      await c.approve(e.task.id, e.comment);
      return `approved ${task(e.task)}: ${e.comment}; ${e.task.points} points to ${e.task.owner}`;
    case 'changes':
      await c.requestChanges(e.task.id, e.comment);
      return `asked for changes to ${task(e.task)}: ${e.comment}`;
    case 'verify':
      await c.taskAction(e.task.id, 'verify');
      return `verified ${task(e.task)}; ${e.task.points} points to ${e.task.owner}`;
    case 'report':
      await c.postReport({ title: e.title, body: e.body, to: '#reports', tags: ['status'] });
      return `posted a report to #reports: ${e.title}`;
    case 'status':
      await c.setStatus({ status: e.status, mission: e.mission });
      return `is ${e.status}: ${e.mission}`;
    case 'read': {
      const inbox = await c.inbox({ limit: 100 });
      const ids = inbox.items.map((i) => i.message.id);
      if (ids.length > 0) await c.ack(ids);
      return `read and acknowledged ${ids.length} message${ids.length === 1 ? '' : 's'}`;
    }
    case 'cycle': {
      const wrap = await c.wrapup('all');
      await addTasks(c, e.tasks);
      const points = e.tasks.reduce((s, t) => s + t.points, 0);
      await c.send({ to: 'all', type: 'status', priority: 'high', subject: `Cycle ${e.cycle}`, body: `Cycle ${e.cycle} begins: ${e.tasks.length} contracts on the board worth ${points} points.` });
      return `wrapped up the cycle with ${wrap.recipients.length} agents; cycle ${e.cycle}: ${e.tasks.length} new contracts worth ${points} points`;
    }
  }
}
