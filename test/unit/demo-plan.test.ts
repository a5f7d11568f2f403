// The demo's script without a hub: its roster is the fixture's, each agent's contracts add up to
// its contract points, the same seed plays the same events, another seed others, and a cycle of
// work ends with every contract verified and the next cycle begun.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { duration, speed } from '../../src/cli/commands/demo.js';
import { type Event, Simulation } from '../../src/cli/demo/plan.js';
import { CAPTAIN, firstAgents, ORIGINAL_SWARM } from '../../src/cli/demo/roster.js';
import { ROOT } from '../support/paths.js';

interface Roster {
  captain: string;
  agents: { id: string; role: string; specialty: string; contract_points: number }[];
  channels: string[];
}
const FIXTURE = JSON.parse(readFileSync(join(ROOT, 'test', 'coordination', 'fixtures', 'original-swarm.json'), 'utf8')) as Roster;

/** What an event is, without the task objects (which the model mutates). */
function summary(e: Event): string {
  return JSON.stringify({ ...e, task: 'task' in e ? e.task.title : undefined, tasks: e.kind === 'cycle' ? e.tasks.length : undefined });
}

/** Plays n events, every one of them succeeding. */
function play(sim: Simulation, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const e = sim.next();
    out.push(summary(e));
    sim.happened(e);
  }
  return out;
}

describe('swarm demo: the roster and the script', () => {
  it('the roster is the fixture: ids, roles, specialties, captain, contract points that add up', () => {
    assert.equal(CAPTAIN, FIXTURE.captain);
    assert.deepEqual(ORIGINAL_SWARM.map((a) => [a.id, a.role, a.specialty, a.contractPoints]), FIXTURE.agents.map((a) => [a.id, a.role, a.specialty, a.contract_points]));
    for (const a of ORIGINAL_SWARM) {
      assert.equal(a.contracts.reduce((s, c) => s + c.points, 0), a.contractPoints, `${a.id}'s contracts`);
      if (a.contractPoints > 0) assert.ok(a.contracts.length >= 2, `${a.id} has a few contracts`);
    }
    assert.equal(new Set(ORIGINAL_SWARM.map((a) => a.capability)).size, ORIGINAL_SWARM.length, 'one capability per agent: only it fits its contracts');
  });

  it('--agents N: the captain and the first N-1 others', () => {
    assert.deepEqual(firstAgents(1).map((a) => a.id), ['Agent-4']);
    assert.deepEqual(firstAgents(3).map((a) => a.id), ['Agent-1', 'Agent-2', 'Agent-4']);
    assert.deepEqual(firstAgents(5).map((a) => a.id), ['Agent-1', 'Agent-2', 'Agent-3', 'Agent-4', 'Agent-5']);
    assert.equal(firstAgents(8).length, 8);
  });

  it('the same seed plays the same events; another seed others', () => {
    const a = play(new Simulation(ORIGINAL_SWARM, 42), 300);
    const b = play(new Simulation(ORIGINAL_SWARM, 42), 300);
    const c = play(new Simulation(ORIGINAL_SWARM, 43), 300);
    assert.deepEqual(a, b);
    assert.notDeepEqual(a, c);
  });

  it('a cycle ends with every contract verified, points to their owners, then the next cycle', () => {
    const sim = new Simulation(ORIGINAL_SWARM, 1);
    const kinds = new Map<string, number>();
    let cycle: Event | undefined;
    for (let i = 0; i < 2000 && cycle === undefined; i++) {
      const e = sim.next();
      kinds.set(e.kind, (kinds.get(e.kind) ?? 0) + 1);
      if (e.kind === 'cycle') cycle = e;
      else {
        if ('task' in e) assert.ok(e.kind === 'verify' ? e.agent === CAPTAIN : e.kind === 'approve' || e.kind === 'changes' ? e.agent !== e.task.owner : e.agent === e.task.owner, summary(e));
        sim.happened(e);
      }
    }
    assert.ok(cycle?.kind === 'cycle' && cycle.cycle === 2 && cycle.tasks.length === 21, 'the next cycle came');
    for (const k of ['chat', 'claim', 'done', 'review', 'approve', 'changes', 'verify', 'report', 'status', 'read']) assert.ok((kinds.get(k) ?? 0) > 0, `some ${k} events`);
    assert.ok(sim.tasks.every((t) => t.state === 'verified'));
  });

  it('a captain alone still has things to do, and never a task', () => {
    const events = play(new Simulation(firstAgents(1), 5), 50).map((s) => JSON.parse(s) as { kind: string; agent: string });
    assert.ok(events.every((e) => e.agent === CAPTAIN && ['chat', 'report', 'status', 'read'].includes(e.kind)));
  });

  it('--speed and --for refuse what they cannot use', () => {
    assert.equal(speed('10'), 10);
    assert.equal(speed('0.5'), 0.5);
    for (const v of ['0', '0.0', '-1', '51', '1e3', 'fast', '']) assert.throws(() => speed(v), /expected a number/, v);
    assert.equal(duration('8s'), 8);
    assert.equal(duration('90'), 90);
    assert.equal(duration('2h'), 7200);
    for (const v of ['0s', '8d', '1.5m', '10x', '-3s', '']) assert.throws(() => duration(v), /expected a duration/, v);
  });
});
