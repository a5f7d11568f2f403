// The demo's script: what the simulated swarm does next, decided from its own model of the board
// and a seeded random generator. No I/O: the same seed and the same outcomes give the same events
// (`swarm demo --seed N`), which test/unit/demo-plan.test.ts checks. run.ts performs each event
// against the hub and reports back whether it happened.
import { CAPTAIN, type Contract, type DemoAgent } from './roster.js';

/** mulberry32: small, fast, and the same sequence on every platform for a given seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type TaskState = 'open' | 'claimed' | 'done' | 'review' | 'verified';

export interface SimTask {
  /** The hub's id, once the task is on the board. */
  id: string;
  cycle: number;
  title: string;
  points: number;
  description: string;
  owner: string;
  capability: string;
  state: TaskState;
  reviewer: string | null;
  changesAsked: boolean;
}

export type Event =
  | { kind: 'chat'; agent: string; to: string; type: 'text' | 'status' | 'deployment' | 'review'; subject: string; body: string }
  | { kind: 'claim' | 'verify'; agent: string; task: SimTask }
  | { kind: 'done'; agent: string; task: SimTask; note: string }
  | { kind: 'review'; agent: string; task: SimTask; reviewer: string }
  | { kind: 'approve' | 'changes'; agent: string; task: SimTask; comment: string }
  | { kind: 'report'; agent: string; title: string; body: string }
  | { kind: 'status'; agent: string; status: 'online' | 'busy'; mission: string }
  | { kind: 'read'; agent: string }
  | { kind: 'cycle'; agent: string; cycle: number; tasks: SimTask[] };

/** How often each kind of event is picked when it can happen: the board moves, the channels talk. */
const WEIGHTS = { work: 55, chat: 25, status: 8, report: 6, read: 6 } as const;

const NOTES = ['tests pass, notes in the thread', 'merged behind a flag', 'done; see the report in #reports', 'shipped, docs updated', 'finished with a follow-up filed'];
const APPROVALS = ['clear and complete', 'looks good, ship it', 'checked against the spec: fine', 'nice work', 'approved with one nit in the thread'];
const CHANGES = ['please add the missing tests', 'the rollback step is unclear', 'numbers do not match the metrics', 'split this into smaller changes'];
const CHATTER = [
  (t: string) => `Started on "${t}"; first results within the hour.`,
  (t: string) => `Anyone else touching the area of "${t}"? I would rather not collide.`,
  (t: string) => `Blocked for a moment on "${t}": waiting for a review elsewhere.`,
  (t: string) => `Progress on "${t}": about half done.`,
];
const CAPTAIN_NOTES = [
  'Reminder: ask a peer for a review before the captain verifies.',
  'Deployment window opens in 10 minutes: api first, then handlers.',
  'Good pace today. Keep the board honest: release what you cannot finish.',
  'Rolling out api v2: 3 replicas on port 8080, handlers scale to 5.',
];

export class Simulation {
  readonly tasks: SimTask[] = [];
  cycle = 1;
  private readonly rand: () => number;

  constructor(
    readonly agents: readonly DemoAgent[],
    seed: number,
  ) {
    this.rand = seeded(seed);
    this.tasks.push(...this.contracts(1));
  }

  /** One cycle's tasks: every agent's contracts. */
  contracts(cycle: number): SimTask[] {
    const label = (t: Contract): string => (cycle === 1 ? t.title : `${t.title} (cycle ${cycle})`);
    return this.agents.flatMap((a) =>
      a.contracts.map((t) => ({ id: '', cycle, title: label(t), points: t.points, description: t.description, owner: a.id, capability: a.capability, state: 'open' as const, reviewer: null, changesAsked: false })),
    );
  }

  private pick<T>(xs: readonly T[]): T {
    const x = xs[Math.floor(this.rand() * xs.length)];
    if (x === undefined) throw new Error('pick from an empty list');
    return x;
  }

  private others(id: string): DemoAgent[] {
    return this.agents.filter((a) => a.id !== id);
  }

  /**
   * A task further along is more likely to move: contracts flow across the board instead of all
   * being claimed at once and verified only much later.
   */
  private pickWork(steps: { stage: number; step: () => Event }[]): () => Event {
    let roll = this.rand() * steps.reduce((s, x) => s + x.stage, 0);
    return (steps.find((x) => (roll -= x.stage) < 0) ?? this.pick(steps)).step;
  }

  /** Every step of the board that can happen now, one per task at most, with how far along its task is. */
  private work(): { stage: number; step: () => Event }[] {
    const holding = new Set(this.tasks.filter((t) => t.state === 'claimed').map((t) => t.owner));
    const steps: { stage: number; step: () => Event }[] = [];
    for (const t of this.tasks) {
      if (t.state === 'open' && !holding.has(t.owner)) steps.push({ stage: 1, step: () => ({ kind: 'claim', agent: t.owner, task: t }) });
      else if (t.state === 'claimed') steps.push({ stage: 2, step: () => ({ kind: 'done', agent: t.owner, task: t, note: this.pick(NOTES) }) });
      else if (t.state === 'done') {
        steps.push({ stage: 3, step: () => {
          const peers = this.others(t.owner).filter((a) => a.id !== CAPTAIN);
          // Mostly a peer's review; sometimes (or with no peer) the captain verifies it outright.
          if (peers.length === 0 || this.rand() < 0.2) return { kind: 'verify', agent: CAPTAIN, task: t };
          return { kind: 'review', agent: t.owner, task: t, reviewer: this.pick(peers).id };
        } });
      } else if (t.state === 'review' && t.reviewer !== null) {
        const reviewer = t.reviewer;
        steps.push({ stage: 4, step: () => (!t.changesAsked && this.rand() < 0.2 ? { kind: 'changes', agent: reviewer, task: t, comment: this.pick(CHANGES) } : { kind: 'approve', agent: reviewer, task: t, comment: this.pick(APPROVALS) }) });
      }
    }
    return steps;
  }

  /** The next event. Nothing changes until `happened` says it did. */
  next(): Event {
    const work = this.work();
    const crew = this.agents.filter((a) => a.role !== 'captain');
    if (work.length === 0 && crew.length > 0 && this.tasks.every((t) => t.state === 'verified')) {
      return { kind: 'cycle', agent: CAPTAIN, cycle: this.cycle + 1, tasks: this.contracts(this.cycle + 1) };
    }
    const kinds = (Object.keys(WEIGHTS) as (keyof typeof WEIGHTS)[]).filter((k) => k !== 'work' || work.length > 0);
    let roll = this.rand() * kinds.reduce((s, k) => s + WEIGHTS[k], 0);
    const kind = kinds.find((k) => (roll -= WEIGHTS[k]) < 0) ?? 'chat';
    if (kind === 'work') return this.pickWork(work)();
    const agent = this.pick(this.agents);
    if (kind === 'read') return { kind: 'read', agent: agent.id };
    if (kind === 'status') {
      const current = this.tasks.find((t) => t.owner === agent.id && t.state === 'claimed');
      return current === undefined
        ? { kind: 'status', agent: agent.id, status: 'online', mission: agent.role === 'captain' ? 'Reviewing the board' : `Looking for the next ${agent.specialty} contract` }
        : { kind: 'status', agent: agent.id, status: 'busy', mission: current.title };
    }
    if (kind === 'report') return this.report(agent);
    return this.chat(agent);
  }

  private chat(agent: DemoAgent): Event {
    if (agent.role === 'captain') {
      const to = this.pick(['#deployments', '#reviews', ...(this.agents.length > 1 ? ['all'] : [])]);
      return { kind: 'chat', agent: agent.id, to, type: to === '#deployments' ? 'deployment' : 'text', subject: `From the captain (cycle ${this.cycle})`, body: this.pick(CAPTAIN_NOTES) };
    }
    // What it works on now, or its field in general.
    const current = this.tasks.find((t) => t.owner === agent.id && t.state === 'claimed');
    const topic = current?.title ?? agent.specialty;
    const peers = this.others(agent.id);
    const to = this.pick(['#reviews', '#deployments', CAPTAIN, ...(peers.length > 1 ? [this.pick(peers).id] : [])]);
    const type = to === '#deployments' ? 'deployment' : to === '#reviews' ? 'review' : to === CAPTAIN ? 'status' : 'text';
    const body = current === undefined ? `Free for the next ${agent.specialty} contract; happy to review meanwhile.` : this.pick(CHATTER)(topic);
    return { kind: 'chat', agent: agent.id, to, type, subject: topic, body };
  }

  private report(agent: DemoAgent): Event {
    const mine = this.tasks.filter((t) => t.owner === agent.id && t.cycle === this.cycle);
    const verified = mine.filter((t) => t.state === 'verified').reduce((s, t) => s + t.points, 0);
    const rows = mine.map((t) => `| ${t.title} | ${t.points} | ${t.state} |`);
    const body = [
      `# ${agent.id}: ${agent.specialty}, cycle ${this.cycle}`,
      '',
      mine.length === 0 ? 'Oversight only this cycle: reviews and verification.' : `**${verified} of ${agent.contractPoints} contract points verified.**`,
      '',
      ...(rows.length === 0 ? [] : ['| task | points | state |', '|---|---:|---|', ...rows, '']),
      `Next: ${this.pick(['keep the board moving', 'pair on reviews', 'write up what we learned', 'prepare the deployment'])}.`,
    ].join('\n');
    return { kind: 'report', agent: agent.id, title: `${agent.id} status report, cycle ${this.cycle}`, body };
  }

  /** The event happened on the hub: the model follows. */
  happened(e: Event): void {
    switch (e.kind) {
      case 'claim':
        e.task.state = 'claimed';
        break;
      case 'done':
        e.task.state = 'done';
        break;
      case 'review':
        e.task.state = 'review';
        e.task.reviewer = e.reviewer;
        break;
      case 'approve':
      case 'verify':
        e.task.state = 'verified';
        break;
      case 'changes':
        e.task.state = 'claimed';
        e.task.changesAsked = true;
        e.task.reviewer = null;
        break;
      case 'cycle':
        this.cycle = e.cycle;
        this.tasks.push(...e.tasks);
        break;
      default:
    }
  }
}
