// The committed Kubernetes manifests as the tests read them: each environment's rendered objects
// (deploy/k8s/rendered/, which k8s-render.test.ts proves equal to the definitions and to what
// kustomize makes of the overlays), looked up by kind and name.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../support/paths.js';

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>;

export const K8S = join(ROOT, 'deploy', 'k8s');
export const ENVS = ['dev', 'prod'] as const;

export function loadYaml(file: string): Obj[] {
  const docs = parseAllDocuments(readFileSync(file, 'utf8'));
  for (const d of docs) if (d.errors.length > 0) throw new Error(`${relative(ROOT, file)}: ${d.errors[0]?.message}`);
  return docs.map((d) => d.toJS() as Obj).filter((o) => o !== null);
}

/** An environment's objects: the hub's, then the migration's (its ConfigMap once). */
export function rendered(env: string): Obj[] {
  const hub = loadYaml(join(K8S, 'rendered', `${env}.yaml`));
  const migrate = loadYaml(join(K8S, 'rendered', `${env}-migrate.yaml`)).filter((o) => !hub.some((h) => h.kind === o.kind && h.metadata.name === o.metadata.name));
  return [...hub, ...migrate];
}

export function ofKind(objects: Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

export function named(objects: Obj[], kind: string, name: string): Obj {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (o === undefined) throw new Error(`no ${kind} ${name}`);
  return o;
}

/** Every YAML file under deploy/k8s/ (relative paths), the definitions' directory left out. */
export function yamlFiles(dir = K8S): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'src' ? [] : yamlFiles(p);
    return name.endsWith('.yaml') ? [relative(ROOT, p)] : [];
  });
}

/** The pod templates of the Deployments and the Job, with the name of their owner. */
export function podTemplates(objects: Obj[]): { owner: string; spec: any }[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'Job').map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec }));
}
