// `npm run bench -- --only channel`: latency of the MCP channel push (src/mcp/channel.ts). A real
// hub (`swarm serve`), `swarm mcp --channel` as its own process for the receiving agent, and the
// official SDK's Client on its stdio in this process. One message at a time from
// another agent over a keep-alive HTTP connection: per message, the send's answer read and the
// `notifications/claude/channel` event received, on one monotonic clock in this process. A
// notification can come before the answer is read (the hub hands out in the turn after the
// commit while the answer is on another socket): such are counted as "early" (negative latency).
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { Agent, fetch } from 'undici';
import { CHANNEL_METHOD } from '../src/mcp/channel.js';
import { cleanEnv } from '../test/support/process.js';
import { Latencies } from './load.js';
import { intOption, machine, monoMs, parseFlags, runMain, table } from './report.js';
import { registerAgents, startHub, SWARM_BIN } from './servers.js';

const TARGET_P99_MS = 50;

/** A notification not received within this long counts as lost. */
const LOST_MS = 5000;

const HELP = [
  'npm run bench -- --only channel [--messages N] [--warmup N] [--keep] [--json]',
  '  --messages N   measured messages, one at a time (default 200)',
  '  --warmup N     unmeasured messages first (default 20)',
  "  --keep         keep the hub's data directory",
  '  --json         machine-readable results on stdout',
  '',
].join('\n');

function pcts(l: Latencies): { p50: number; p99: number; max: number } {
  return { p50: l.percentile(50), p99: l.percentile(99), max: l.percentile(100) };
}

async function main(): Promise<void> {
  const v = parseFlags(process.argv.slice(2), {
    messages: { type: 'string' },
    warmup: { type: 'string' },
    keep: { type: 'boolean', default: false },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  }, HELP);
  const messages = intOption('messages', v.messages, undefined, 200, 1, 100_000);
  const warmup = intOption('warmup', v.warmup, undefined, 20, 0, 10_000);
  const log = (line: string): boolean => process.stderr.write(`bench channel: ${line}\n`);
  const watchdog = setTimeout(() => {
    log('did not finish within 10 min; giving up');
    process.exit(2);
  }, 600_000);

  const loadBefore = loadavg()[0] ?? NaN;
  const dataDir = mkdtempSync(join(tmpdir(), 'swarm-bench-channel-'));
  if (!v.keep) process.once('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const hub = await startHub({ dataDir, synchronous: 'full' });
  const tokens = await registerAgents(hub.url, hub.adminToken, ['Agent-R', 'Agent-S']);

  const received = new Map<string, number>();
  let waiting: { id: string; resolve: () => void } | null = null;
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [SWARM_BIN, 'mcp', '--channel'],
    env: cleanEnv({ SWARM_HUB: hub.url, SWARM_TOKEN: tokens.get('Agent-R') ?? '' }) as Record<string, string>,
    stderr: 'pipe',
  });
  let serverErr = '';
  transport.stderr?.on('data', (d: Buffer) => (serverErr = (serverErr + d.toString()).slice(-8192)));
  const client = new Client({ name: 'bench-channel', version: '0.0.0' });
  client.fallbackNotificationHandler = async (n) => {
    if (n.method !== CHANNEL_METHOD) return;
    const at = monoMs();
    const id = (n.params as { meta: Record<string, string> }).meta.message_id ?? '';
    received.set(id, at);
    if (waiting?.id === id) waiting.resolve();
  };
  await client.connect(transport);
  log(`hub ${hub.url}; channel server pid ${transport.pid}; ${warmup} + ${messages} messages`);

  const http = new Agent({ connections: 1, keepAliveTimeout: 60_000 });
  const senderToken = tokens.get('Agent-S') ?? '';
  const answered = new Latencies();
  const total = new Latencies();
  const push = new Latencies();
  let early = 0;
  let lost = 0;
  for (let i = 0; i < warmup + messages; i++) {
    const start = monoMs();
    const res = await fetch(`${hub.url}/v1/messages`, {
      method: 'POST',
      dispatcher: http,
      headers: { authorization: `Bearer ${senderToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ to: 'Agent-R', subject: `m${i}`, body: `channel bench message ${i}` }),
    });
    const text = await res.text();
    const answeredAt = monoMs();
    if (res.status !== 201) throw new Error(`send ${i}: HTTP ${res.status} ${text}`);
    const id = (JSON.parse(text) as { message: { id: string } }).message.id;
    if (!received.has(id)) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, LOST_MS);
        waiting = {
          id,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
      waiting = null;
    }
    const at = received.get(id);
    if (i < warmup) continue;
    if (at === undefined) {
      lost += 1;
      log(`message ${i} (${id}) not pushed within ${LOST_MS} ms; channel server said: ${serverErr.slice(-2000)}`);
      continue;
    }
    if (at < answeredAt) early += 1;
    push.add(at - answeredAt);
    total.add(at - start);
    answered.add(answeredAt - start);
  }
  clearTimeout(watchdog);
  await client.close();
  await http.close();
  await hub.stop();

  const p = pcts(push);
  const met = lost === 0 && p.p99 < TARGET_P99_MS;
  const result = {
    benchmark: 'channel',
    machine: machine(),
    messages,
    warmup,
    lost,
    early,
    answeredToNotified: p,
    startToNotified: pcts(total),
    startToAnswered: pcts(answered),
    target: { p99BelowMs: TARGET_P99_MS, met },
    loadAverage1m: { before: loadBefore, after: loadavg()[0] ?? NaN },
  };
  if (v.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else {
    const m = result.machine;
    const f = (x: number): string => x.toFixed(2);
    const row = (name: string, x: { p50: number; p99: number; max: number }): string[] => [name, f(x.p50), f(x.p99), f(x.max)];
    process.stdout.write(
      [
        `Channel push benchmark: ${messages} messages one at a time (after ${warmup} unmeasured), agent → hub → WebSocket → MCP channel server → stdio → SDK Client`,
        `${m.cpus} × ${m.cpu}, ${m.memGiB} GiB, node ${m.node}, Linux ${m.kernel}; load average (1 min) ${result.loadAverage1m.before.toFixed(2)} before, ${result.loadAverage1m.after.toFixed(2)} after`,
        '',
        table([['ms', 'p50', 'p99', 'max'], row('send answered → notification received', p), row('send started → notification received', result.startToNotified), row('send started → answered', result.startToAnswered)]),
        '',
        `early (notification before the answer was read): ${early} of ${messages}; lost: ${lost}`,
        `p99 (answered → notification) ${f(p.p99)} ms (target < ${TARGET_P99_MS} ms: ${met ? 'met' : 'NOT met'})`,
        '',
      ].join('\n'),
    );
  }
  if (lost > 0) process.exitCode = 1;
}

runMain(main);
