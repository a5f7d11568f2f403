// `npm run bench -- --only cli`: the CLI's start-up, as whole processes, the way an agent shelling
// out pays for it. Against a running hub (`swarm serve`, started here), each round runs, in an
// order that rotates every round: `node -e 0` (Node's own start-up, the floor), `swarm --version`
// (start-up without the network), `swarm send` (one agent to another) and `swarm inbox` (the
// other agent's, at most 10 items). Wall time from spawn to exit, on this process's monotonic
// clock; median and p90 of each after a warm-up. Target: `swarm send` and `swarm inbox` median
// <= 1.6 x `node -e 0` of the same run. Then, beside them, the MCP server's answer time: one
// `swarm mcp` process over stdio (the official SDK's Client here), `send` tool calls one at a
// time, from the call to its result.
import { spawnSync } from 'node:child_process';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv } from '../test/support/process.js';
import { intOption, machine, median, monoMs, parseFlags, runMain, table } from './report.js';
import { registerAgents, startHub, SWARM_BIN } from './servers.js';

const TARGET_RATIO = 1.6;
const RUN_TIMEOUT_MS = 20_000;

const HELP = `npm run bench -- --only cli [--runs N] [--calls N] [--warmup N] [--keep] [--json]

  --runs N     measured rounds (default 40); each round runs every command once
  --calls N    MCP send tool calls measured over stdio (default 200)
  --warmup N   rounds run first and not counted (default 3)
  --keep       keep the hub's data directory
  --json       one JSON document on stdout instead of the tables
`;

interface Probe {
  name: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** Compared with the target (the commands that talk to the hub). */
  target: boolean;
}

function p90(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.9 * s.length) - 1)] ?? NaN;
}

function runOnce(p: Probe): number {
  const t0 = monoMs();
  const r = spawnSync(process.execPath, p.args, { env: p.env, stdio: ['ignore', 'pipe', 'pipe'], timeout: RUN_TIMEOUT_MS });
  const ms = monoMs() - t0;
  if (r.status !== 0) throw new Error(`${p.name} exited with ${r.status ?? r.signal}: ${r.stderr.toString().trim()}`);
  return ms;
}

async function main(): Promise<void> {
  const f = parseFlags(process.argv.slice(2), { runs: { type: 'string' }, calls: { type: 'string' }, warmup: { type: 'string' }, keep: { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean' } }, HELP);
  // Not BENCH_RUNS: that counts runs of the load benchmarks (3 by default), not rounds of processes.
  const runs = intOption('runs', f.runs, undefined, 40, 5, 1000);
  const warmup = intOption('warmup', f.warmup, undefined, 3, 0, 100);
  const calls = intOption('calls', f.calls, undefined, 200, 10, 10_000);
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-cli-'));
  const hub = await startHub({ dataDir, synchronous: 'full' });
  try {
    const tokens = await registerAgents(hub.url, hub.adminToken, ['Bench-1', 'Bench-2']);
    const as = (id: string): NodeJS.ProcessEnv => cleanEnv({ SWARM_HUB: hub.url, SWARM_TOKEN: tokens.get(id) ?? '' });
    const probes: Probe[] = [
      { name: 'node -e 0', args: ['-e', '0'], env: cleanEnv(), target: false },
      { name: 'swarm --version', args: [SWARM_BIN, '--version'], env: as('Bench-1'), target: false },
      { name: 'swarm send', args: [SWARM_BIN, 'send', 'Bench-2', 'hello from the CLI benchmark', '-q'], env: as('Bench-1'), target: true },
      { name: 'swarm inbox', args: [SWARM_BIN, 'inbox', '-n', '10'], env: as('Bench-2'), target: true },
    ];
    const times = new Map<string, number[]>(probes.map((p) => [p.name, []]));
    const load0 = loadavg()[0] ?? 0;
    for (let round = 0; round < warmup + runs; round++) {
      // Rotate the order so that no command always runs right after another (caches, CPU clock).
      for (let i = 0; i < probes.length; i++) {
        const p = probes[(round + i) % probes.length] as Probe;
        const ms = runOnce(p);
        if (round >= warmup) times.get(p.name)?.push(ms);
      }
    }
    const floor = median(times.get('node -e 0') ?? []);
    const rows = probes.map((p) => {
      const xs = times.get(p.name) ?? [];
      const med = median(xs);
      return { command: p.name, medianMs: med, p90Ms: p90(xs), ratio: med / floor, target: p.target ? (med / floor <= TARGET_RATIO ? 'met' : 'missed') : '' };
    });
    const met = rows.filter((r) => r.target !== '').every((r) => r.target === 'met');
    const mcp = await mcpSendLatency(as('Bench-1'), calls);
    const doc = {
      benchmark: 'cli',
      machine: machine(),
      loadavg1mAtStart: load0,
      runs,
      warmup,
      targetRatio: TARGET_RATIO,
      rows,
      met,
      mcpToolCallSendStdio: mcp,
    };
    if (f.json === true) {
      process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
      return;
    }
    const m = machine();
    process.stdout.write(
      [
        `cli: whole processes, ${runs} rounds (+${warmup} warm-up), order rotating; ${m.cpus} x ${m.cpu}, Node ${m.node}, load ${load0.toFixed(2)} at start`,
        table([
          ['command', 'median ms', 'p90 ms', 'x node -e 0', `target <= ${TARGET_RATIO}x`],
          ...rows.map((r) => [r.command, r.medianMs.toFixed(1), r.p90Ms.toFixed(1), r.ratio.toFixed(2), r.target]),
        ]),
        `target (swarm send and swarm inbox median <= ${TARGET_RATIO} x node -e 0): ${met ? 'met' : 'MISSED'}`,
        `MCP tool call latency (send, stdio, ${mcp.calls} calls one at a time, after 20 unmeasured): p50 ${mcp.p50Ms.toFixed(2)} ms, p99 ${mcp.p99Ms.toFixed(2)} ms, max ${mcp.maxMs.toFixed(2)} ms`,
        '',
      ].join('\n'),
    );
  } finally {
    await hub.stop();
    if (f.keep === true) process.stderr.write(`kept ${dataDir}\n`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

/** `send` tool calls through one `swarm mcp` process over stdio: call to result, one at a time. */
async function mcpSendLatency(env: NodeJS.ProcessEnv, calls: number): Promise<{ calls: number; p50Ms: number; p99Ms: number; maxMs: number }> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [SWARM_BIN, 'mcp'], env: env as Record<string, string>, stderr: 'pipe' });
  const client = new Client({ name: 'bench-cli', version: '0' });
  await client.connect(transport);
  try {
    const ms: number[] = [];
    for (let i = 0; i < 20 + calls; i++) {
      const t0 = monoMs();
      const r = await client.callTool({ name: 'send', arguments: { to: 'Bench-2', body: `mcp bench ${i}` } });
      const dt = monoMs() - t0;
      if (r.isError === true) throw new Error(`the send tool failed: ${JSON.stringify(r.content).slice(0, 300)}`);
      if (i >= 20) ms.push(dt);
    }
    const s = [...ms].sort((a, b) => a - b);
    const at = (q: number): number => s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)] ?? NaN;
    return { calls, p50Ms: at(0.5), p99Ms: at(0.99), maxMs: s.at(-1) ?? NaN };
  } finally {
    await client.close();
  }
}

runMain(main);
