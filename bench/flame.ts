// `node dist/bench/flame.js FILE.cpuprofile [-o OUT.svg] [--folded OUT.txt] [--title TEXT] [--min-ms N] [--time START-END]`:
// a flame graph of a V8 CPU profile (as `--cpu-prof` writes it) as one self-contained SVG, for
// docs/flame/. No package on the registry writes a static SVG offline (0x, flamebearer and
// speedscope make HTML viewers), so this converts the profile to folded stacks (Brendan Gregg's
// `a;b;c µs` lines, also written with --folded) and draws those: the root at the bottom, each frame
// as wide as the time spent in it and what it called, its name and figures in a tooltip.
// Idle time is left out (it is no CPU); (program) and (garbage collector) stay.
// --time START-END keeps the samples between START and END seconds into the profile, to leave out
// start-up and shutdown.
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { type Profile, type ProfileNode, readProfile, where } from './cpuprofile.js';

const WIDTH = 1200;
const ROW = 16;
const FONT_PX = 11;
/** Average glyph width of the font at FONT_PX, for cutting names to fit their frame. */
const CHAR_PX = 6.4;

/** `name file:line` for a frame; a JS file's line makes two functions of one name distinct. */
function label(n: ProfileNode): string {
  const name = n.callFrame.functionName || '(anonymous)';
  const loc = where(n.callFrame.url);
  return (loc === '' ? name : `${name} ${loc}:${n.callFrame.lineNumber + 1}`).replaceAll(';', ',');
}

/** Folded stacks: root-first frame labels joined by ';' → µs of samples whose leaf that stack is. */
export function folded(p: Profile, fromUs = 0, toUs = Infinity): Map<string, number> {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stackOf = new Map<number, string | null>();
  const stack = (id: number): string | null => {
    const known = stackOf.get(id);
    if (known !== undefined) return known;
    const n = byId.get(id);
    let s: string | null = null;
    if (n !== undefined && n.callFrame.functionName !== '(root)' && n.callFrame.functionName !== '(idle)') {
      const up = parent.get(id);
      const above = up === undefined ? null : stack(up);
      s = above === null ? label(n) : `${above};${label(n)}`;
    }
    stackOf.set(id, s);
    return s;
  };
  const out = new Map<string, number>();
  let t = 0;
  p.samples.forEach((id, i) => {
    const dt = p.timeDeltas[i] ?? 0;
    t += dt;
    if (t < fromUs || t > toUs) return;
    const s = stack(id);
    if (s !== null) out.set(s, (out.get(s) ?? 0) + dt);
  });
  return out;
}

interface Frame {
  name: string;
  us: number;
  children: Map<string, Frame>;
}

function tree(stacks: Map<string, number>): Frame {
  const root: Frame = { name: 'all', us: 0, children: new Map() };
  for (const [s, us] of stacks) {
    root.us += us;
    let f = root;
    for (const name of s.split(';')) {
      let c = f.children.get(name);
      if (c === undefined) {
        c = { name, us: 0, children: new Map() };
        f.children.set(name, c);
      }
      c.us += us;
      f = c;
    }
  }
  return root;
}

function depthOf(f: Frame): number {
  let d = 0;
  for (const c of f.children.values()) d = Math.max(d, depthOf(c));
  return d + 1;
}

/** Our code warm, dependencies yellow, Node's own code and native frames grey-blue; shade varies by name. */
function colour(name: string): string {
  let h = 0;
  for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) >>> 0;
  const v = h % 40;
  if (name.includes(' dist/')) return `rgb(240,${100 + v},${40 + (v >> 1)})`;
  if (name.includes(' nm/')) return `rgb(225,${190 + (v >> 1)},${50 + v})`;
  if (name.startsWith('(garbage collector)')) return 'rgb(200,90,90)';
  return `rgb(${120 + v},${150 + v},${190 + (v >> 1)})`;
}

const escape = (s: string): string => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');

export function svg(stacks: Map<string, number>, title: string, minUs: number): string {
  const root = tree(stacks);
  const depth = depthOf(root);
  const height = (depth + 2) * ROW + 8;
  const scale = root.us > 0 ? WIDTH / root.us : 0;
  const parts: string[] = [];
  const draw = (f: Frame, x: number, level: number): void => {
    if (f.us < minUs) return;
    const w = f.us * scale;
    const y = height - (level + 1) * ROW - 4;
    const tip = `${f.name} — ${(f.us / 1000).toFixed(1)} ms, ${((f.us / root.us) * 100).toFixed(2)} %`;
    const fits = Math.floor((w - 6) / CHAR_PX);
    const text = fits >= 3 ? (f.name.length <= fits ? f.name : `${f.name.slice(0, fits - 2)}..`) : '';
    parts.push(
      `<g><title>${escape(tip)}</title><rect x="${x.toFixed(2)}" y="${y}" width="${Math.max(w - 0.5, 0.1).toFixed(2)}" height="${ROW - 1}" fill="${colour(f.name)}" rx="2"/>` +
        (text === '' ? '' : `<text x="${(x + 3).toFixed(2)}" y="${y + ROW - 4.5}">${escape(text)}</text>`) +
        '</g>',
    );
    let cx = x;
    for (const c of [...f.children.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      draw(c, cx, level + 1);
      cx += c.us * scale;
    }
  };
  draw(root, 0, 0);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="monospace" font-size="${FONT_PX}">`,
    `<rect width="100%" height="100%" fill="#fdfdf6"/>`,
    `<text x="${WIDTH / 2}" y="${ROW}" text-anchor="middle" font-size="${FONT_PX + 3}">${escape(title)} (${(root.us / 1000).toFixed(0)} ms on CPU; hover a frame for its figures)</text>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      out: { type: 'string', short: 'o' },
      folded: { type: 'string' },
      title: { type: 'string' },
      'min-ms': { type: 'string' },
      time: { type: 'string' },
    },
  });
  const file = positionals[0];
  if (file === undefined) {
    process.stderr.write('usage: node dist/bench/flame.js FILE.cpuprofile [-o OUT.svg] [--folded OUT.txt] [--title TEXT] [--min-ms N] [--time START-END]\n');
    process.exit(1);
  }
  const [from, to] = (values.time ?? '0-').split('-').map((x) => (x === '' ? undefined : Number(x) * 1e6));
  const stacks = folded(readProfile(file), from ?? 0, to ?? Infinity);
  if (values.folded !== undefined) writeFileSync(values.folded, [...stacks].map(([s, us]) => `${s} ${Math.round(us)}`).join('\n') + '\n');
  const out = values.out ?? `${basename(file, '.cpuprofile')}.svg`;
  // Frames narrower than this (default: a tenth of a pixel's worth) are not drawn: they would not show.
  const totalUs = [...stacks.values()].reduce((a, b) => a + b, 0);
  const minUs = values['min-ms'] === undefined ? totalUs / WIDTH / 10 : Number(values['min-ms']) * 1000;
  writeFileSync(out, svg(stacks, values.title ?? basename(file), minUs));
  process.stderr.write(`flame: ${out} (${(totalUs / 1000).toFixed(0)} ms on CPU)\n`);
}

main();
