// The committed deploy/k8s/ is what the TypeScript definitions render (`npm run k8s`), and each
// overlay's kustomization turns the base into that environment's rendered manifests: checked here
// by applying its patches, image and namespace the way kustomize does, and by `kubectl kustomize`
// itself where kubectl is installed (a fresh machine cannot install it: skipped, loudly, there).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { applyOps, type PatchOp } from '../../deploy/k8s/src/overlay.js';
import { GENERATED_DIRS, render } from '../../deploy/k8s/src/render.js';
import { ROOT } from '../support/paths.js';
import { ENVS, K8S, loadYaml, type Obj, podTemplates, yamlFiles } from './manifests.js';

const key = (o: Obj): string => `${o.kind}/${o.metadata.name}`;

/** The differences between two sets of objects, by kind and name: [] when they are the same. */
function differences(got: Obj[], want: Obj[]): string[] {
  const g = new Map(got.map((o) => [key(o), o]));
  const out = want.filter((o) => !isDeepStrictEqual(g.get(key(o)), o)).map((o) => (g.has(key(o)) ? `${key(o)} differs` : `${key(o)} missing`));
  for (const k of g.keys()) if (!want.some((o) => key(o) === k)) out.push(`${k} not expected`);
  return out;
}

interface KustomizationFile {
  namespace?: string;
  resources: string[];
  images?: { name: string; newTag: string }[];
  patches?: { target: { group?: string; version: string; kind: string; name: string }; patch: string }[];
}

/** What kustomize builds from `dir`, for the features the overlays use (resources, patches, images, namespace). */
function kustomize(dir: string): Obj[] {
  const k = parse(readFileSync(join(dir, 'kustomization.yaml'), 'utf8')) as KustomizationFile;
  let objects = k.resources.flatMap((r) => (statSync(join(dir, r)).isDirectory() ? kustomize(join(dir, r)) : loadYaml(join(dir, r))));
  for (const p of k.patches ?? []) {
    const apiVersion = p.target.group === undefined ? p.target.version : `${p.target.group}/${p.target.version}`;
    const hits = objects.filter((o) => o.kind === p.target.kind && o.metadata.name === p.target.name && o.apiVersion === apiVersion);
    assert.equal(hits.length, 1, `${relative(ROOT, dir)}: the patch of ${p.target.kind}/${p.target.name} matches ${hits.length} objects`);
    objects = objects.map((o) => (hits.includes(o) ? (applyOps(o, parse(p.patch) as PatchOp[]) as Obj) : o));
  }
  for (const image of k.images ?? []) {
    for (const { spec } of podTemplates(objects)) for (const c of spec.containers) if (String(c.image).split(':')[0] === image.name) c.image = `${image.name}:${image.newTag}`;
  }
  if (k.namespace !== undefined) objects = objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace: k.namespace as string } }));
  return objects;
}

const OVERLAYS = ENVS.flatMap((env) => [
  { dir: join(K8S, 'overlays', env), rendered: join(K8S, 'rendered', `${env}.yaml`) },
  { dir: join(K8S, 'overlays', env, 'migrate'), rendered: join(K8S, 'rendered', `${env}-migrate.yaml`) },
]);

describe('deploy/k8s: rendered from the definitions', () => {
  it('every committed file is what `npm run k8s` writes, and no stale one is left', () => {
    const files = render(ROOT);
    assert.ok(files.size >= 20, `only ${files.size} files rendered`);
    const differ = [...files].filter(([path, text]) => !existsSync(join(ROOT, path)) || readFileSync(join(ROOT, path), 'utf8') !== text).map(([p]) => p);
    assert.deepEqual(differ, [], 'run `npm run k8s` and commit the result');
    const generated = yamlFiles().filter((f) => GENERATED_DIRS.some((d) => f.startsWith(`${d}/`)));
    assert.deepEqual(
      generated.filter((f) => !files.has(f)),
      [],
      'files under the generated directories that the definitions no longer render',
    );
  });

  it('each overlay (and its migration) builds to the environment\'s rendered manifests', () => {
    for (const o of OVERLAYS) {
      const want = loadYaml(o.rendered);
      assert.ok(want.length >= 2, `${o.rendered}: ${want.length} objects`);
      assert.deepEqual(differences(kustomize(o.dir), want), [], relative(ROOT, o.dir));
    }
  });

  it('`kubectl kustomize` builds each overlay to the same objects', (t) => {
    const kubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 20_000 });
    if (kubectl.status !== 0) {
      t.skip('kubectl is not installed (no registry here has a recent one): the overlays were checked by the test above only');
      return;
    }
    // Debian's kubernetes-client (1.20) embeds kustomize 2.0.3, which predates `patches:` (v3.1).
    const major = Number(/Kustomize Version: v(\d+)/.exec(kubectl.stdout)?.[1] ?? 0);
    if (major < 4) {
      t.skip(`kubectl's kustomize is too old for the overlays' \`patches:\` (${/Kustomize Version: \S+/.exec(kubectl.stdout)?.[0] ?? 'none'}; needs v4 or later): checked by the test above only`);
      return;
    }
    for (const o of OVERLAYS) {
      const out = execFileSync('kubectl', ['kustomize', o.dir], { encoding: 'utf8', timeout: 60_000 });
      const got = out.split(/^---$/m).map((d) => parse(d) as Obj).filter((x) => x !== null);
      assert.deepEqual(differences(got, loadYaml(o.rendered)), [], `kubectl kustomize ${relative(ROOT, o.dir)}`);
    }
  });
});
