// The container and pod the three tiers and the migration Job share: the image, its environment
// (ConfigMap and Secret references), a restricted security context (non-root, read-only root file
// system, no capabilities: the Pod Security Standard "restricted"), and the data directory on an
// emptyDir. Only the serving tiers get probes, a preStop hook and the zone spread.
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IProbe } from 'kubernetes-models/v1/Probe';
import type { IResourceRequirements } from 'kubernetes-models/v1/ResourceRequirements';
import type { ITopologySpreadConstraint } from 'kubernetes-models/v1/TopologySpreadConstraint';
import { podEnv } from './settings.js';
import { CONTAINER, DATA_DIR, IMAGE, IMAGE_TAG, RUN_AS, SHUTDOWN, type Tier } from './topology.js';

export const IMAGE_REF = `${IMAGE}:${IMAGE_TAG}`;

/** The probes' paths: routes every role serves (src/server/routes/ops.ts). */
export const PROBE_PATHS = { live: '/healthz', ready: '/readyz' } as const;

function httpProbe(path: string, timing: Omit<IProbe, 'httpGet'>): IProbe {
  return { httpGet: { path, port: 'http', scheme: 'HTTP' }, ...timing };
}

/**
 * startup: the process listens once its store is open (migrations already applied by the Job),
 * within seconds; 30 × 2 s leaves a minute for a slow database before the kubelet restarts it.
 * liveness: /healthz answers from the event loop alone, never from the database, so a database
 * outage does not restart every pod; 3 misses 10 s apart (30 s of a stuck loop) restart it.
 * readiness: /readyz answers 503 while the store is unreachable or the pod drains; 2 misses 5 s
 * apart take it out of rotation in ~10 s, 1 success puts it back.
 */
export const PROBES = {
  startupProbe: httpProbe(PROBE_PATHS.live, { periodSeconds: 2, timeoutSeconds: 2, failureThreshold: 30 }),
  livenessProbe: httpProbe(PROBE_PATHS.live, { periodSeconds: 10, timeoutSeconds: 3, failureThreshold: 3 }),
  readinessProbe: httpProbe(PROBE_PATHS.ready, { periodSeconds: 5, timeoutSeconds: 3, failureThreshold: 2, successThreshold: 1 }),
} as const;

const CONTAINER_SECURITY = {
  runAsNonRoot: true,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
};

/** The container: `swarm ARGS…` (the image's entrypoint is `swarm`). */
export function container(args: string[], resources: IResourceRequirements, extra: Partial<IContainer> = {}): IContainer {
  return {
    name: CONTAINER,
    image: IMAGE_REF,
    imagePullPolicy: 'IfNotPresent',
    args,
    env: podEnv(),
    resources,
    securityContext: CONTAINER_SECURITY,
    volumeMounts: [
      { name: 'data', mountPath: DATA_DIR },
      { name: 'tmp', mountPath: '/tmp' },
    ],
    ...extra,
  };
}

/** The pod around one container: non-root, no service-account token (the hub never calls the API). */
export function podSpec(c: IContainer, extra: Partial<IPodSpec> = {}): IPodSpec {
  return {
    automountServiceAccountToken: false,
    enableServiceLinks: false,
    securityContext: { runAsNonRoot: true, runAsUser: RUN_AS, runAsGroup: RUN_AS, fsGroup: RUN_AS, seccompProfile: { type: 'RuntimeDefault' } },
    containers: [c],
    volumes: [
      // On PostgreSQL the data directory holds admin.token only (and a retention archive, if set).
      { name: 'data', emptyDir: { sizeLimit: '256Mi' } },
      { name: 'tmp', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
    ],
    ...extra,
  };
}

/** Spread each tier's pods across zones (the original's multi-zone redundancy), then nodes. */
export function spread(matchLabels: Record<string, string>): ITopologySpreadConstraint[] {
  // pod-template-hash: during a rollout the new ReplicaSet's pods are spread on their own, not
  // counted against the old ones'.
  const common = { maxSkew: 1, labelSelector: { matchLabels }, matchLabelKeys: ['pod-template-hash'] };
  return [
    { ...common, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'DoNotSchedule' },
    { ...common, topologyKey: 'kubernetes.io/hostname', whenUnsatisfiable: 'ScheduleAnyway' },
  ];
}

/** The serving container of a tier: its role and port, the probes and the preStop pause. */
export function tierContainer(t: Tier): IContainer {
  return container(['serve', '--role', t.role, '--host', '0.0.0.0', '--port', String(t.port)], t.resources, {
    ports: [{ name: 'http', containerPort: t.port, protocol: 'TCP' }],
    ...PROBES,
    lifecycle: { preStop: { sleep: { seconds: SHUTDOWN.preStopSeconds } } },
  });
}
