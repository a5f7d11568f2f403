// Every object of one environment, grouped by the file of the base it is rendered into. The base is
// prod's values without a namespace; an overlay is the difference (overlay.ts).
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { configMap } from './settings.js';
import { prometheusRule, serviceMonitor } from './monitoring.js';
import { ingress, networkPolicies } from './network.js';
import { autoscalers, disruptionBudgets } from './scaling.js';
import { ENVIRONMENTS, type Environment } from './topology.js';
import { deployments, migrateJob, services } from './workloads.js';

export type K8sObject = { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string } } & Record<string, unknown>;

/** File name (in the base) → its objects, in the order they are written. */
export type ObjectFiles = Record<string, K8sObject[]>;

export const BASE: Environment = (() => {
  const prod = ENVIRONMENTS.find((e) => e.name === 'prod');
  if (prod === undefined) throw new Error('no prod environment');
  return prod;
})();

const asObjects = (xs: unknown[]): K8sObject[] => xs as K8sObject[];

/** The hub's objects (base/): everything but the ConfigMap and the migration Job. */
export function hubObjects(env: Environment, rulesYaml: string): ObjectFiles {
  return {
    'deployments.yaml': asObjects(deployments(env.zoneSpread)),
    'services.yaml': asObjects(services()),
    'autoscalers.yaml': asObjects(autoscalers(env.maxReplicas)),
    'disruption-budgets.yaml': asObjects(disruptionBudgets()),
    'network-policies.yaml': asObjects(networkPolicies()),
    'ingress.yaml': asObjects([ingress(env.host, env.issuer)]),
    'monitoring.yaml': asObjects([serviceMonitor(), prometheusRule(rulesYaml)]),
  };
}

/** The settings (base/settings/), shared by the hub's kustomization and the migration's. */
export function settingsObjects(env: Environment): ObjectFiles {
  return { 'configmap.yaml': asObjects([configMap(env.logLevel)]) };
}

/** The migration Job (base/migrate/). */
export function migrateObjects(): ObjectFiles {
  return { 'job.yaml': asObjects([migrateJob()]) };
}

export function flatten(files: ObjectFiles): K8sObject[] {
  return Object.values(files).flat();
}

/** A copy of each object with its namespace set, as kustomize's `namespace:` does. */
export function inNamespace(objects: K8sObject[], namespace: string): K8sObject[] {
  return objects.map((o) => ({ ...o, metadata: { ...o.metadata, namespace } }));
}

/** The Namespace of an environment: the Pod Security Standard "restricted" enforced (the pods meet it). */
export function namespaceObject(env: Environment): K8sObject {
  return new Namespace({
    metadata: {
      name: env.namespace,
      labels: {
        'app.kubernetes.io/part-of': 'swarm',
        'pod-security.kubernetes.io/enforce': 'restricted',
        'pod-security.kubernetes.io/enforce-version': 'latest',
      },
    },
  }).toJSON() as K8sObject;
}
