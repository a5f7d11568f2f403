// CPU and memory of a group of processes from /proc: the PostgreSQL server (the postmaster and
// its children, which come and go with connections), for the benchmarks that run against it.
import { readdirSync, readFileSync } from 'node:fs';
import { monoMs, procUsage } from './report.js';

/** The postmaster and every process whose parent it is (backends, walwriter, checkpointer, …). */
export function postgresPids(postmaster: number): number[] {
  const pids = [postmaster];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const text = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === postmaster) pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** CPU seconds of a changing set of processes over a window; a process born in the window counts from zero. */
export class GroupCpu {
  private start = new Map<number, number>();
  private t0 = 0;
  constructor(private readonly pids: () => number[]) {}
  mark(): void {
    this.t0 = monoMs();
    this.start.clear();
    for (const pid of this.pids()) this.start.set(pid, procUsage(pid)?.cpuS ?? 0);
  }
  /** { cpuS, wallS } since mark(). */
  read(): { cpuS: number; wallS: number } {
    let cpuS = 0;
    for (const pid of this.pids()) {
      const u = procUsage(pid);
      if (u !== null) cpuS += u.cpuS - (this.start.get(pid) ?? 0);
    }
    return { cpuS, wallS: (monoMs() - this.t0) / 1000 };
  }
}

/** Peak resident set (VmHWM) in MiB. */
export function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m?.[1] === undefined ? NaN : Number(m[1]) / 1024;
  } catch {
    return NaN;
  }
}
