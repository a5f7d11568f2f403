// `node dist/bench/profile-top.js FILE.cpuprofile [N]`: the functions with the most self time in a
// V8 CPU profile (as written by `--cpu-prof`), and the same summed by file, as percentages of all
// samples and of the non-idle ones. For reading the hub's profile after `--cpu-prof DIR`.
import { IDLE, readProfile, selfTimes, where } from './cpuprofile.js';

const [file, topArg] = process.argv.slice(2);
if (file === undefined) {
  process.stderr.write('usage: node dist/bench/profile-top.js FILE.cpuprofile [N]\n');
  process.exit(1);
}
const top = Number(topArg ?? 30);
const p = readProfile(file);
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = selfTimes(p);
const total = p.timeDeltas.reduce((a, b) => a + b, 0);
const byFunction = new Map<string, number>();
const byFile = new Map<string, number>();
let idle = 0;
for (const [id, us] of self) {
  const n = byId.get(id);
  if (n === undefined) continue;
  const name = n.callFrame.functionName || '(anonymous)';
  if (name === '(idle)') idle += us;
  const loc = where(n.callFrame.url);
  const key = loc === '' ? name : `${name}  ${loc}:${n.callFrame.lineNumber + 1}`;
  byFunction.set(key, (byFunction.get(key) ?? 0) + us);
  const fileKey = loc === '' ? (IDLE.has(name) ? name : `(native) ${name}`) : loc;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const busy = total - idle;
const print = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n  % all  % busy     ms\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(7)}${((us / busy) * 100).toFixed(1).padStart(8)}${(us / 1000).toFixed(0).padStart(7)}  ${k}\n`);
  }
};
process.stdout.write(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(idle / 1e6).toFixed(1)} s idle, ${(busy / 1e6).toFixed(1)} s busy\n`);
print('self time by function', byFunction);
print('self time by file', byFile);
