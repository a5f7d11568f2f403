// The three tiers as Deployments and Services, and the migration Job that runs before a rollout.
//
// An autoscaled tier's Deployment names no `replicas`: its HorizontalPodAutoscaler's minReplicas
// holds the original count (3 api, 5 handlers). With `replicas` in the manifest, every
// `kubectl apply` would set the Deployment back to it, killing the pods the autoscaler had added
// under load, until the autoscaler scaled up again (the Kubernetes documentation's advice for
// Deployments under an HPA). The config tier is not autoscaled and names its 2.
import { Deployment, type IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import { type IJob, Job } from 'kubernetes-models/batch/v1/Job';
import { type IService, Service } from 'kubernetes-models/v1/Service';
import { componentOf, labels, selector } from './labels.js';
import { container, podSpec, spread, tierContainer } from './pod.js';
import { MIGRATE_JOB, SHUTDOWN, type Tier, TIERS } from './topology.js';

export function deployment(t: Tier, zoneSpread: 'DoNotSchedule' | 'ScheduleAnyway'): IDeployment {
  const c = componentOf(t);
  const constraints = spread(selector(c));
  if (constraints[0] !== undefined) constraints[0].whenUnsatisfiable = zoneSpread;
  return new Deployment({
    metadata: { name: t.name, labels: labels(c) },
    spec: {
      ...(t.maxReplicas === undefined ? { replicas: t.replicas } : {}),
      revisionHistoryLimit: 5,
      selector: { matchLabels: selector(c) },
      // One pod more, none fewer: capacity stays at least what it was during a rollout.
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: 0 } },
      // A pod counts as available once ready for 5 s: a pod that fails right after start does not
      // let the rollout go on.
      minReadySeconds: 5,
      progressDeadlineSeconds: 300,
      template: {
        metadata: { labels: labels(c) },
        spec: podSpec(tierContainer(t), {
          terminationGracePeriodSeconds: SHUTDOWN.terminationGracePeriodSeconds,
          topologySpreadConstraints: constraints,
        }),
      },
    },
  }).toJSON() as IDeployment;
}

export function service(t: Tier): IService {
  const c = componentOf(t);
  return new Service({
    metadata: { name: t.name, labels: labels(c) },
    spec: {
      type: 'ClusterIP',
      selector: selector(c),
      ports: [{ name: 'http', port: t.port, targetPort: 'http', protocol: 'TCP' }],
    },
  }).toJSON() as IService;
}

/** A migration is one transaction on one connection, then the process exits: a small pod. */
const MIGRATE_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } };

/**
 * `swarm serve --migrate-only`: applies the pending migrations under the advisory lock every hub
 * process takes at start, prints the schema version, exits 0. Exit 9 (a malformed database URL) and
 * 10 (a schema newer than this image) cannot succeed on a retry: the Job fails at once. Exit 8
 * (the database unreachable) is retried, up to backoffLimit, within activeDeadlineSeconds.
 *
 * Ordering: the Job is rendered into its own kustomization (overlays/ENV/migrate), applied and
 * waited for before the hub's (docs/deployment.md). Argo CD runs it as a PreSync hook by itself.
 * Without either, the hub is still safe: each pod migrates at start under the same lock.
 */
export function migrateJob(): IJob {
  return new Job({
    metadata: {
      name: MIGRATE_JOB,
      labels: labels('migrate'),
      annotations: {
        'argocd.argoproj.io/hook': 'PreSync',
        'argocd.argoproj.io/hook-delete-policy': 'BeforeHookCreation',
      },
    },
    spec: {
      backoffLimit: 4,
      activeDeadlineSeconds: 600,
      podFailurePolicy: { rules: [{ action: 'FailJob', onExitCodes: { containerName: 'swarm', operator: 'In', values: [9, 10] } }] },
      template: {
        metadata: { labels: labels('migrate') },
        spec: podSpec(container(['serve', '--migrate-only'], MIGRATE_RESOURCES), { restartPolicy: 'Never' }),
      },
    },
  }).toJSON() as IJob;
}

export const deployments = (zoneSpread: 'DoNotSchedule' | 'ScheduleAnyway'): IDeployment[] => TIERS.map((t) => deployment(t, zoneSpread));
export const services = (): IService[] => TIERS.map(service);
