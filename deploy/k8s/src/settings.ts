// What the pods read from their environment: non-secret settings from the ConfigMap
// swarm-config-env (its keys are the SWARM_* variables themselves), secrets from the Secret
// swarm-secrets. The Secret is declared here, not rendered into the kustomization: its values come
// from the operator (kubectl create secret, CI, or Terraform's kubernetes_secret_v1 from sensitive
// variables), so that no secret is ever committed or overwritten by an apply.
//
// No admin token is among them: the hub reads none from its environment. The first api or config
// pod mints the admin's token into its data directory (docs/deployment.md, Kubernetes).
import { ConfigMap, type IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { type ISecret, Secret } from 'kubernetes-models/v1/Secret';
import type { IEnvVar } from 'kubernetes-models/v1/EnvVar';
import { CONFIGMAP, DATA_DIR, SECRET, SHUTDOWN } from './topology.js';
import { labels } from './labels.js';

/** The ConfigMap's data in the base (prod's values; overlays patch what differs). */
export function configData(logLevel: string): Record<string, string> {
  return {
    SWARM_DATA: DATA_DIR,
    SWARM_LOG_LEVEL: logLevel,
    SWARM_DRAIN_SECONDS: String(SHUTDOWN.drainSeconds),
    SWARM_GRACE_SECONDS: String(SHUTDOWN.graceSeconds),
    // Each process opens at most this many pooled connections (docs/deployment.md, capacity model):
    // 100 api pods × 5 = 500 at most, behind PgBouncer as the capacity model advises.
    SWARM_POOL_SIZE: '5',
  };
}

export function configMap(logLevel: string): IConfigMap {
  return new ConfigMap({
    metadata: { name: CONFIGMAP, labels: labels('settings') },
    data: configData(logLevel),
  }).toJSON() as IConfigMap;
}

export interface SecretKey {
  /** The key in the Secret swarm-secrets. */
  key: string;
  /** The variable the hub reads it from (src/config/keys.ts). */
  env: string;
  /** The pods start without it (secretKeyRef optional: true). */
  optional: boolean;
  doc: string;
}

/** Every key of swarm-secrets the pods read; test/ship/ checks each reference against this list. */
export const SECRET_KEYS: readonly SecretKey[] = [
  { key: 'database-url', env: 'SWARM_DATABASE', optional: false, doc: 'postgres://user:password@host:5432/db (store.database)' },
  {
    key: 'encryption-key',
    env: 'SWARM_ENCRYPTION_KEY',
    optional: false,
    doc: 'encryption at rest: `swarm keys generate` (security.encryptionKey); an empty value leaves messages in the clear',
  },
  { key: 'previous-keys', env: 'SWARM_PREVIOUS_KEYS', optional: true, doc: 'older keys during and after a `swarm keys rotate` (security.previousKeys)' },
  {
    key: 'session-database-url',
    env: 'SWARM_SESSION_DATABASE',
    optional: true,
    doc: 'PostgreSQL itself when database-url points at PgBouncer in transaction mode (store.sessionDatabase)',
  },
];

/** The container's environment: every ConfigMap key, then every Secret key, each by reference. */
export function podEnv(): IEnvVar[] {
  const fromConfig = Object.keys(configData('info')).map((key) => ({ name: key, valueFrom: { configMapKeyRef: { name: CONFIGMAP, key } } }));
  const fromSecret = SECRET_KEYS.map((s) => ({
    name: s.env,
    valueFrom: { secretKeyRef: { name: SECRET, key: s.key, ...(s.optional ? { optional: true } : {}) } },
  }));
  return [...fromConfig, ...fromSecret];
}

/** An example of the Secret (placeholders), rendered for the docs; never part of a kustomization. */
export function secretExample(): ISecret {
  return new Secret({
    metadata: { name: SECRET, labels: labels('settings') },
    type: 'Opaque',
    stringData: Object.fromEntries(SECRET_KEYS.map((s) => [s.key, s.optional ? '' : `REPLACE: ${s.doc}`])),
  }).toJSON() as ISecret;
}
