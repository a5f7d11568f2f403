// task add|list|show|next|claim|done|release|verify, review request|approve|changes, leaderboard.
import type { Command } from 'commander';
import type { WireTask } from '../../api/schemas.js';
import { ROLES } from '../../domain/agent.js';
import { PRIORITIES } from '../../domain/message.js';
import { HubError } from '../../errors.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { bodyFrom, collect, intIn, oneOf, sinceTime } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';

const STATUSES = ['open', 'claimed', 'done', 'verified'] as const;

function taskLine(t: WireTask): string {
  return `${t.id}  ${t.status}${t.assignee ? ` (${t.assignee})` : ''}  ${t.points} points  ${t.title}`;
}

function taskView(t: WireTask): string {
  return [
    `${t.title}`,
    `id ${t.id} · ${t.status}${t.assignee ? `, ${t.assignee}` : ''} · ${t.points} points · ${t.priority}`,
    t.role !== null || t.capabilities.length > 0 ? `needs: ${[t.role === null ? '' : `role ${t.role}`, ...t.capabilities].filter((x) => x !== '').join(', ')}` : '',
    `created by ${t.created_by} ${ago(t.created_at)}${t.verified_by ? ` · verified by ${t.verified_by}` : ''}`,
    t.note !== '' ? `note: ${t.note}` : '',
    t.description !== '' ? `\n${t.description}` : '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}

function act(program: Command, name: string, description: string, run: (id: string, o: Record<string, string | undefined>, g: GlobalOptions) => Promise<void>): Command {
  return program
    .command(name)
    .description(description)
    .argument('<id>', 'task id')
    .action(async (id: string, o: Record<string, string | undefined>, cmd: Command) => run(id, o, cmd.optsWithGlobals<GlobalOptions>()));
}

/** Prints what a task action answered: the task's line. */
async function acted(g: GlobalOptions, answer: Promise<{ task: WireTask }>): Promise<void> {
  const r = await answer;
  const out = makeOutput(g);
  emit(out, r, () => (out.quiet ? '' : taskLine(r.task)));
}

export interface TaskListOptions {
  status?: string;
  mine?: boolean;
  limit?: number;
}

/** `swarm task list` and `swarm legacy --list-tasks`. */
export async function listTasks(g: GlobalOptions, o: TaskListOptions): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).tasks(o);
  emit(out, r, () =>
    r.tasks.length === 0
      ? 'no tasks'
      : table(
          ['ID', 'STATUS', 'ASSIGNEE', 'POINTS', 'PRIORITY', 'NEEDS', 'TITLE'],
          r.tasks.map((t) => [t.id, t.status, t.assignee ?? '', String(t.points), t.priority, [t.role ?? '', ...t.capabilities].filter((x) => x).join(','), t.title]),
        ),
  );
}

/** `swarm task show ID` and `swarm legacy --task-status ID`. */
export async function showTask(g: GlobalOptions, id: string): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).task(id);
  emit(out, r, () =>
    [taskView(r.task), ...r.reviews.map((v) => `review round ${v.round}: ${v.reviewer} ${v.verdict ?? 'pending'}${v.comment ? `: ${v.comment}` : ''}`)].join('\n'),
  );
}

/** `swarm task next` and `swarm legacy --get-next-task`: exit 4 when no open task fits. */
export async function claimNextTask(g: GlobalOptions): Promise<void> {
  const out = makeOutput(g);
  const r = await clientFor(g).nextTask();
  if (r.task === null) throw new HubError('task_not_found', 'no open task fits you right now');
  const t = r.task;
  emit(out, r, () => (out.quiet ? t.id : `claimed ${taskLine(t)}`));
}

/** `swarm task done ID` and `swarm legacy --complete-task ID`. */
export function finishTask(g: GlobalOptions, id: string, note?: string): Promise<void> {
  return acted(g, clientFor(g).taskDone(id, note));
}

export function registerTaskCommands(program: Command): void {
  const task = program.command('task').description('the contract board: tasks worth points, claimed without collisions');
  task
    .command('add')
    .description('put a task on the board (captains and admins)')
    .argument('<title>', 'what to do')
    .requiredOption('--points <n>', 'points it is worth once verified', intIn(0, 100_000))
    .option('-r, --role <role>', `only agents of this role may take it: ${ROLES.join(', ')}`, oneOf(ROLES))
    .option('--cap <capability>', 'a capability the taker must have (repeatable)', collect)
    .option('-p, --priority <priority>', `${PRIORITIES.join(', ')} (default regular)`, oneOf(PRIORITIES))
    .option('--description <text>', 'details')
    .option('-f, --file <path>', 'details from a file (- for stdin)')
    .addHelpText('after', '\nExample:\n  swarm task add "Migrate CI to the new runners" --points 150 --cap devops --priority high')
    .action(async (title: string, o: { points: number; role?: string; cap?: string[]; priority?: string; description?: string; file?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      if (o.description !== undefined && o.file !== undefined) throw new HubError('usage', 'give --description or --file, not both');
      const description = o.file !== undefined ? bodyFrom([], o.file) : o.description;
      const r = await clientFor(g).addTask({ title, points: o.points, role: o.role as 'agent', capabilities: o.cap, priority: o.priority as 'regular', description });
      emit(out, r, () => (out.quiet ? r.task.id : `added ${taskLine(r.task)}`));
    });
  task
    .command('list', { isDefault: true })
    .description('the board: open tasks by priority then age, then the others')
    .option('-s, --status <status>', STATUSES.join(', '), oneOf(STATUSES))
    .option('--mine', 'only tasks you hold')
    .option('-n, --limit <n>', 'most tasks (default 100)', intIn(1, 1000))
    .action(async (o: TaskListOptions, cmd: Command) => listTasks(cmd.optsWithGlobals<GlobalOptions>(), o));
  task
    .command('show')
    .description('one task with its reviews')
    .argument('<id>', 'task id')
    .action(async (id: string, _o: unknown, cmd: Command) => showTask(cmd.optsWithGlobals<GlobalOptions>(), id));
  task
    .command('next')
    .description('claim the best open task that fits you (priority, then age); exit 4 when none fits')
    .action(async (_o: unknown, cmd: Command) => claimNextTask(cmd.optsWithGlobals<GlobalOptions>()));
  act(task, 'claim', 'claim an open task', (id, _o, g) => acted(g, clientFor(g).taskAction(id, 'claim')));
  act(task, 'done', 'mark your task done (it needs a review before its points count)', (id, o, g) => finishTask(g, id, o.note)).option(
    '--note <text>',
    'what was done, for the reviewers',
  );
  act(task, 'release', 'give a claimed task back to the board', (id, _o, g) => acted(g, clientFor(g).taskAction(id, 'release')));
  act(task, 'verify', 'verify a done task without a review (captains and admins)', (id, _o, g) => acted(g, clientFor(g).taskAction(id, 'verify')));

  const review = program.command('review').description('peer review: a task is verified only by someone other than its assignee');
  review
    .command('request')
    .description('ask reviewers to review your done task')
    .argument('<task>', 'task id')
    .requiredOption('--reviewers <ids>', 'comma list of agents, e.g. Agent-2,Agent-5')
    .action(async (id: string, o: { reviewers: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const reviewers = o.reviewers.split(',').map((s) => s.trim()).filter((s) => s !== '');
      const r = await clientFor(g).requestReview(id, reviewers);
      emit(out, r, () => (out.quiet ? '' : `review round ${r.round} of ${r.task.id} asked of ${reviewers.join(', ')}`));
    });
  act(review, 'approve', 'approve a task you were asked to review: it is verified and its points count', (id, o, g) => acted(g, clientFor(g).approve(id, o.comment))).option(
    '--comment <text>',
    'what you think',
  );
  act(review, 'changes', 'ask for changes: the task goes back to its assignee', (id, o, g) => {
    if (o.comment === undefined) throw new HubError('usage', 'say what should change: --comment TEXT');
    return acted(g, clientFor(g).requestChanges(id, o.comment));
  }).option('--comment <text>', 'what should change (required)');

  program
    .command('leaderboard')
    .description('verified points, tasks and reviews per agent')
    .option('--since <time>', 'ISO 8601 time or an age (7d, 24h)', (v: string) => sinceTime(v))
    .action(async (o: { since?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).leaderboard(o.since);
      emit(out, r, () =>
        r.agents.length === 0
          ? 'no points yet'
          : table(
              ['#', 'AGENT', 'POINTS', 'VERIFIED', 'DONE', 'REVIEWS'],
              r.agents.map((a, i) => [String(i + 1), a.agent, String(a.points), String(a.tasks_verified), String(a.tasks_done), String(a.reviews_given)]),
            ),
      );
    });
}
