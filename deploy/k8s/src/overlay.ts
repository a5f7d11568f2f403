// An overlay as kustomize reads it: the namespace, the image, and JSON patches (RFC 6902) that turn
// the base's objects into the environment's. The patches are not written by hand: they are the
// difference between the objects rendered with the base's values and with the environment's, so
// the overlay and the environment's rendered manifests (rendered/ENV.yaml) cannot disagree.
// test/ship/ applies them to the base and compares; `kubectl kustomize` does the same where present.
import type { K8sObject } from './objects.js';

export type PatchOp = { op: 'replace' | 'add'; path: string; value: unknown } | { op: 'remove'; path: string };

export interface Patch {
  target: { group?: string; version: string; kind: string; name: string };
  ops: PatchOp[];
}

const pointer = (path: string[]): string => `/${path.map((p) => p.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}`;
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The ops turning `from` into `to`: replace what differs, add and remove keys; arrays of another length whole. */
export function diff(from: unknown, to: unknown, path: string[] = []): PatchOp[] {
  if (isObject(from) && isObject(to)) {
    const ops: PatchOp[] = [];
    for (const k of Object.keys(from)) if (!(k in to)) ops.push({ op: 'remove', path: pointer([...path, k]) });
    for (const [k, v] of Object.entries(to)) ops.push(...(k in from ? diff(from[k], v, [...path, k]) : [{ op: 'add' as const, path: pointer([...path, k]), value: v }]));
    return ops;
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) return to.flatMap((v, i) => diff(from[i], v, [...path, String(i)]));
  return JSON.stringify(from) === JSON.stringify(to) ? [] : [{ op: 'replace', path: pointer(path), value: to }];
}

const key = (o: K8sObject): string => `${o.kind}/${o.metadata?.name ?? ''}`;

/** One patch per object that differs between the base's rendering and the environment's. */
export function patchesBetween(base: K8sObject[], env: K8sObject[]): Patch[] {
  const byKey = new Map(base.map((o) => [key(o), o]));
  if (byKey.size !== env.length || env.some((o) => !byKey.has(key(o)))) throw new Error('an overlay may only change the base\'s objects, not add or remove any');
  const patches: Patch[] = [];
  for (const o of env) {
    const ops = diff(byKey.get(key(o)), o);
    if (ops.length === 0) continue;
    const [group, version] = o.apiVersion.includes('/') ? o.apiVersion.split('/') : [undefined, o.apiVersion];
    patches.push({ target: { ...(group === undefined ? {} : { group }), version: version as string, kind: o.kind, name: o.metadata?.name ?? '' }, ops });
  }
  return patches;
}

function unescape(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Applies the ops to a copy of `doc` (the subset of RFC 6902 that diff() writes). */
export function applyOps(doc: unknown, ops: PatchOp[]): unknown {
  const out = structuredClone(doc);
  for (const op of ops) {
    const parts = op.path.split('/').slice(1).map(unescape);
    const last = parts.pop();
    if (last === undefined) throw new Error('a patch of the whole document');
    let at = out as Record<string, unknown>;
    for (const p of parts) {
      const next = at[p];
      if (typeof next !== 'object' || next === null) throw new Error(`${op.path}: no ${p}`);
      at = next as Record<string, unknown>;
    }
    if (op.op === 'remove') {
      if (!(last in at)) throw new Error(`${op.path}: nothing to remove`);
      delete at[last];
    } else {
      if (op.op === 'replace' && !(last in at)) throw new Error(`${op.path}: nothing to replace`);
      at[last] = structuredClone(op.value);
    }
  }
  return out;
}

export interface Kustomization {
  apiVersion: 'kustomize.config.k8s.io/v1beta1';
  kind: 'Kustomization';
  namespace?: string;
  resources: string[];
  images?: { name: string; newTag: string }[];
  patches?: { target: Patch['target']; patch: string }[];
}

export function kustomization(o: Omit<Kustomization, 'apiVersion' | 'kind'>): Kustomization {
  return { apiVersion: 'kustomize.config.k8s.io/v1beta1', kind: 'Kustomization', ...o };
}
