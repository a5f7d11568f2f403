// Reading a V8 CPU profile (as `node --cpu-prof` writes it): its shape, and short names for the
// places its frames come from (paths under the repository relative to it, node_modules as nm/).
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from './servers.js';

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** Frames that are no JavaScript function; `(idle)` is time the thread waited, not CPU. */
export const IDLE = new Set(['(idle)', '(program)', '(garbage collector)']);

export function readProfile(file: string): Profile {
  return JSON.parse(readFileSync(file, 'utf8')) as Profile;
}

/** Where a frame's code lives, short: `dist/src/hub/auth.js`, `nm/zod/…`, `node:events`, or '' for native frames. */
export function where(url: string): string {
  if (url === '') return '';
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  const rel = path.startsWith(ROOT) ? relative(ROOT, path) : path;
  return rel.replace(/^node_modules\//, 'nm/');
}

/** Microseconds of samples per node id (the node's self time). */
export function selfTimes(p: Profile): Map<number, number> {
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0)));
  return self;
}
