// The facts the Kubernetes manifests are made of, in one place: the original system's topology
// (three tiers with their ports, replica counts and resources), the image, the shutdown timings
// that must agree with the hub's drain, and the names other tools (CI, Terraform, the docs) use.
// Everything under deploy/k8s/ is rendered from these by `npm run k8s` (scripts/k8s.mjs);
// test/ship/ checks them against the hub (its ports, routes and settings).

export const IMAGE = 'ghcr.io/swarm-hub/swarm';
/** The tag the base names; CI and Terraform replace it (kustomize `images:`, var.image). */
export const IMAGE_TAG = '0.1.0';
export const CONTAINER = 'swarm';
/** Every object carries app.kubernetes.io/part-of: swarm; the NetworkPolicies select on it. */
export const PART_OF = 'swarm';
export const CONFIGMAP = 'swarm-config-env';
export const SECRET = 'swarm-secrets';
export const MIGRATE_JOB = 'swarm-migrate';
export const INGRESS = 'swarm';

export type TierName = 'swarm-api' | 'swarm-config' | 'swarm-handlers';

export interface Resources {
  requests: { cpu: string; memory: string };
  limits: { cpu: string; memory: string };
}

export interface Tier {
  name: TierName;
  /** `swarm serve --role`. */
  role: 'api' | 'config' | 'worker';
  port: number;
  /** The original's replica count: the Deployment's, or the floor of its autoscaler. */
  replicas: number;
  resources: Resources;
  /** The autoscaler's ceiling, when the tier has one (overlays may lower it). */
  maxReplicas?: number;
}

/** The original plan: api 8080 × 3, config 8081 × 2, handlers 8082 × 5. */
export const TIERS: readonly Tier[] = [
  {
    name: 'swarm-api',
    role: 'api',
    port: 8080,
    replicas: 3,
    resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } },
    maxReplicas: 100,
  },
  {
    // The original gave no figures for config. It serves only /v1/config (settings read by CLIs
    // and dashboards) and polls the shared settings every 2 s: measured RSS 81-99 MiB in the
    // 24-process fleet (docs/deployment.md, capacity model) against 85-118 MiB for api. So half of
    // api's request and limit: 128Mi holds it with a third to spare, 256Mi caps a leak.
    name: 'swarm-config',
    role: 'config',
    port: 8081,
    replicas: 2,
    resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '250m', memory: '256Mi' } },
  },
  {
    name: 'swarm-handlers',
    role: 'worker',
    port: 8082,
    replicas: 5,
    resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '1Gi' } },
    maxReplicas: 20,
  },
];

export function tier(name: TierName): Tier {
  const t = TIERS.find((x) => x.name === name);
  if (t === undefined) throw new Error(`no tier ${name}`);
  return t;
}

/**
 * Shutdown, in the order it happens when a pod is deleted (a rollout, a drain, a scale-down):
 *
 * 1. The pod leaves the Service's endpoints while the preStop hook sleeps: kube-proxy and the
 *    ingress controller stop sending new connections within a few seconds. The hub serves on.
 * 2. SIGTERM. The hub drains (shutdown.drainSeconds): /readyz answers 503 while it still serves,
 *    for balancers that probe pods themselves (a cloud load balancer with pod targets).
 * 3. It closes streams (clients reconnect to another pod), finishes requests and commits, within
 *    shutdown.graceSeconds counted from SIGTERM (the drain included), else exits non-zero.
 * 4. The kubelet's SIGKILL comes terminationGracePeriodSeconds after the deletion, preStop
 *    included: it must come after 1-3, with a margin, so the hub always ends by itself.
 */
export const SHUTDOWN = {
  preStopSeconds: 5,
  drainSeconds: 5,
  graceSeconds: 20,
  terminationGracePeriodSeconds: 30,
} as const;

/**
 * The hub's data.dir in the container: the image's SWARM_DATA and VOLUME (Dockerfile), mounted here
 * from an emptyDir (on PostgreSQL only admin.token lives there).
 */
export const DATA_DIR = '/data';
/** The image's unprivileged user `node` (uid and gid 1000), stated in the pod so it holds whatever the image says. */
export const RUN_AS = 1000;

export const INGRESS_CONTROLLER = {
  namespace: 'ingress-nginx',
  podLabels: { 'app.kubernetes.io/name': 'ingress-nginx' },
  className: 'nginx',
} as const;

/** Where Prometheus runs (kube-prometheus-stack's usual namespace); it scrapes every tier. */
export const MONITORING_NAMESPACE = 'monitoring';

/** PostgreSQL: in the cluster (pods with this label, in the hub's namespace) or outside (a CIDR). */
export const POSTGRES = {
  port: 5432,
  podLabels: { 'app.kubernetes.io/name': 'postgresql' },
  /** A managed database inside the VPC; narrow it to the database's subnet. */
  cidr: '10.0.0.0/8',
} as const;

export interface Environment {
  name: 'dev' | 'prod';
  namespace: string;
  host: string;
  issuer: string;
  logLevel: string;
  /**
   * Spread across zones: required in prod; preferred in dev, so that a cluster whose nodes carry no
   * topology.kubernetes.io/zone label (kind, a single-zone test cluster) still schedules the pods.
   */
  zoneSpread: 'DoNotSchedule' | 'ScheduleAnyway';
  /** The autoscalers' ceilings here. */
  maxReplicas: Partial<Record<TierName, number>>;
}

/** The overlays: dev (also the staging CI deploys to first) and prod. The base holds prod's values. */
export const ENVIRONMENTS: readonly Environment[] = [
  {
    name: 'dev',
    namespace: 'swarm-dev',
    host: 'swarm.dev.example.com',
    issuer: 'letsencrypt-staging',
    logLevel: 'debug',
    zoneSpread: 'ScheduleAnyway',
    maxReplicas: { 'swarm-api': 10, 'swarm-handlers': 10 },
  },
  {
    name: 'prod',
    namespace: 'swarm-prod',
    host: 'swarm.example.com',
    issuer: 'letsencrypt-prod',
    logLevel: 'info',
    zoneSpread: 'DoNotSchedule',
    maxReplicas: {},
  },
];
