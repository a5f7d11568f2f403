// `swarm demo`: a hub of its own (SQLite in a temporary directory unless --data), seeded with the
// original swarm through the API as its admin and captain would do it, then the simulated agents
// at the asked pace until the time is up or the caller aborts; then the hub shuts down as on
// SIGTERM and the temporary directory goes. Loaded by the command with `await import()`: the
// server and its store drivers stay out of every other command's start-up.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Swarm } from '../../client/client.js';
import type { Config } from '../../config/keys.js';
import { HubError, isHubError } from '../../errors.js';
import { startHub } from '../../server/serve.js';
import { addTasks, perform } from './perform.js';
import { Simulation } from './plan.js';
import { CAPTAIN, type DemoAgent, firstAgents } from './roster.js';

export interface DemoOptions {
  /** The hub's config: data.dir, the port and the rest are set here. */
  config: Config;
  port: number;
  /** Keep the hub here (new or empty); absent: a temporary directory, removed at the end. */
  data: string | undefined;
  /** 1: an event every two seconds. */
  speed: number;
  agents: number;
  /** Stop after this long (ms); null: when `signal` aborts. */
  forMs: number | null;
  seed: number;
  version: string;
  signal: AbortSignal;
  json: boolean;
  quiet: boolean;
  out: (line: string) => void;
  warn: (line: string) => void;
}

export const OBSERVER_ID = 'observer';

interface Seeded {
  clients: Map<string, Swarm>;
  observerToken: string;
}

/** The roster, the observer and the first cycle's contracts, through the API. */
async function seed(url: string, adminToken: string, agents: DemoAgent[], sim: Simulation): Promise<Seeded> {
  const client = (token: string): Swarm => new Swarm({ baseUrl: url, token, timeoutMs: 10_000 });
  const admin = client(adminToken);
  const clients = new Map<string, Swarm>();
  const captain = agents.find((a) => a.id === CAPTAIN);
  if (captain === undefined) throw new Error('the demo roster has no captain');
  const cap = await admin.register({ id: captain.id, role: 'captain', specialty: captain.specialty, capabilities: [captain.capability] });
  const captainClient = client(cap.token);
  clients.set(captain.id, captainClient);
  for (const a of agents.filter((x) => x.id !== CAPTAIN)) {
    const r = await captainClient.onboard({ id: a.id, role: 'agent', specialty: a.specialty, capabilities: [a.capability] });
    clients.set(a.id, client(r.token));
  }
  const observer = await admin.register({ id: OBSERVER_ID, role: 'observer', specialty: 'Watches the swarm (read-only): the dashboard' });
  await addTasks(captainClient, sim.tasks);
  return { clients, observerToken: observer.token };
}

export async function runDemo(o: DemoOptions): Promise<void> {
  const temporary = o.data === undefined;
  const dir = temporary ? mkdtempSync(join(tmpdir(), 'swarm-demo-')) : resolve(o.data as string);
  // A hub that does not start leaves nothing behind: not a directory made for it either.
  const made = temporary || !existsSync(dir);
  mkdirSync(dir, { recursive: true });
  let started = false;
  try {
    const hub = await startHub({ ...o.config, 'data.dir': dir }, { version: o.version, port: o.port });
    started = true;
    try {
      await simulate(o, hub.url, readFileSync(hub.adminTokenFile, 'utf8').trim(), dir, temporary);
    } finally {
      // As `swarm serve` on SIGTERM: a shutdown that hangs ends in an error, not a stuck terminal.
      const grace = o.config['shutdown.graceSeconds'];
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new HubError('shutting_down', `shutdown took longer than ${grace} s (shutdown.graceSeconds); exiting without waiting`)), grace * 1000);
      });
      await Promise.race([hub.close(), late]).finally(() => clearTimeout(timer));
    }
  } finally {
    if (temporary || (made && !started)) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

async function simulate(o: DemoOptions, url: string, adminToken: string, dir: string, temporary: boolean): Promise<void> {
  const agents = firstAgents(o.agents);
  const sim = new Simulation(agents, o.seed);
  const { clients, observerToken } = await seed(url, adminToken, agents, sim);
  const as = (id: string): Swarm => {
    const c = clients.get(id);
    if (c === undefined) throw new Error(`no client for ${id}`);
    return c;
  };
  const interval = 2000 / o.speed;
  const dashboard = `${url.replace(/\/+$/, '')}/`;
  const points = sim.tasks.reduce((s, t) => s + t.points, 0);
  if (o.json) {
    o.out(JSON.stringify({ dashboard, observer_token: observerToken, data: dir, temporary, agents: agents.map((a) => a.id), captain: CAPTAIN, tasks: sim.tasks.length, points, speed: o.speed, seed: o.seed }));
  } else if (o.quiet) {
    o.out(`Dashboard: ${dashboard}`);
    o.out(`Observer token: ${observerToken}`);
  } else {
    o.out(`Swarm demo: ${agents.length} agents (captain ${CAPTAIN}), ${sim.tasks.length} tasks worth ${points} points, speed ${o.speed} (an event every ${+(interval / 1000).toFixed(3)} s), seed ${o.seed}`);
    o.out(`Dashboard: ${dashboard}`);
    o.out(`Observer token: ${observerToken}`);
    o.out(`Data: ${dir}${temporary ? ' (removed on exit)' : ' (kept: swarm serve --data DIR serves it again)'}`);
    o.out(`Stop with Ctrl-C${o.forMs === null ? '' : `; stops by itself after ${o.forMs / 1000} s`}.`);
  }
  let events = 0;
  // A timer of our own, not AbortSignal.timeout inside AbortSignal.any: on Node 20 the garbage
  // collector may take such a timeout signal before it fires, and the demo then never stopped.
  const ended = new AbortController();
  const end = (): void => ended.abort();
  if (o.signal.aborted) end();
  o.signal.addEventListener('abort', end, { once: true });
  const timer = o.forMs === null ? undefined : setTimeout(end, o.forMs);
  const stop = ended.signal;
  try {
    events = await play(o, sim, as, interval, stop);
  } finally {
    clearTimeout(timer);
    o.signal.removeEventListener('abort', end);
  }
  if (!o.quiet && !o.json) o.out(`Stopping after ${events} events; the hub drains and shuts down.`);
}

/** The events, one every `interval` ms, until `stop`; returns how many happened. */
async function play(o: DemoOptions, sim: Simulation, as: (id: string) => Swarm, interval: number, stop: AbortSignal): Promise<number> {
  let due = Date.now();
  let events = 0;
  while (!stop.aborted) {
    const wait = due - Date.now();
    if (wait > 0) {
      try {
        await sleep(wait, undefined, { signal: stop });
      } catch {
        break;
      }
    }
    const e = sim.next();
    try {
      const line = await perform(e, as);
      sim.happened(e);
      events++;
      if (o.json) o.out(JSON.stringify({ at: new Date().toISOString(), event: e.kind, agent: e.agent, text: line }));
      else if (!o.quiet) o.out(`${new Date().toISOString().slice(11, 19)}  ${e.agent.padEnd(8)} ${line}`);
    } catch (err) {
      // The hub said no (a rate limit, the loop guard): the swarm carries on; the model did not move.
      if (!isHubError(err)) throw err;
      o.warn(`swarm demo: ${e.agent} could not ${e.kind}: ${err.code}: ${err.message}`);
    }
    // A slow call delays the next event instead of bunching the missed ones up.
    due = Math.max(due + interval, Date.now() - interval);
  }
  return events;
}
