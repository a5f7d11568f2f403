// CPU time and resident memory of a process (or one of its threads) from /proc, for tests and
// benchmarks that report what their processes cost (bench/report.ts re-exports it).
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number(r.stdout?.trim());
    clockTicks = Number.isInteger(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** A process, or one thread of it (`tid`; the main thread's is the pid). */
export type ProcRef = number | { pid: number; tid: number };

/** CPU seconds (user + system) and resident MiB of a process, from /proc/<pid>/stat; null once it is gone. */
export function procUsage(ref: ProcRef): { cpuS: number; rssMiB: number } | null {
  let text: string;
  try {
    text = readFileSync(typeof ref === 'number' ? `/proc/${ref}/stat` : `/proc/${ref.pid}/task/${ref.tid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // Fields after the command name (which may hold spaces) start at field 3, the state.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  const rssPages = Number(f[21]);
  return { cpuS: (utime + stime) / ticksPerSecond(), rssMiB: (rssPages * 4096) / 2 ** 20 };
}
