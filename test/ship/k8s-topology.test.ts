// The original topology in the rendered manifests of each environment: api 8080 × 3 (250m/256Mi
// to 500m/512Mi), config 8081 × 2, handlers 8082 × 5 (500m/512Mi to 1000m/1Gi); autoscalers that
// target Deployments that exist; disruption budgets that select each tier's pods; shutdown timings
// that agree with the hub's drain. Then the pods' commands themselves, run as real processes on
// PostgreSQL with the ConfigMap's settings: each serves its probe paths and /metrics on the port
// its Service names, and SIGTERM drains (/readyz 503, /healthz 200) and exits 0 in time.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROLE_PORTS } from '../../src/server/serve.js';
import { testDatabaseUrl, testSchema } from '../support/postgres.js';
import { type HubProcess, spawnHub } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import { ENVS, named, ofKind, type Obj, rendered } from './manifests.js';

const ORIGINAL = {
  'swarm-api': { role: 'api', port: 8080, replicas: 3, resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '500m', memory: '512Mi' } } },
  'swarm-config': { role: 'config', port: 8081, replicas: 2 },
  'swarm-handlers': { role: 'worker', port: 8082, replicas: 5, resources: { requests: { cpu: '500m', memory: '512Mi' }, limits: { cpu: '1000m', memory: '1Gi' } } },
} as const;

/** `--flag value` in a container's args. */
function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

const containerOf = (d: Obj): any => d.spec.template.spec.containers.find((c: { name: string }) => c.name === 'swarm');

/** The replica count a tier starts with and never goes under: its autoscaler's floor, or the Deployment's. */
function floor(objects: Obj[], d: Obj): number {
  const hpa = ofKind(objects, 'HorizontalPodAutoscaler').find((h) => h.spec.scaleTargetRef.name === d.metadata.name);
  return hpa === undefined ? d.spec.replicas : hpa.spec.minReplicas;
}

const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s: the original topology', () => {
  for (const env of ENVS) {
    it(`${env}: three tiers with the original ports, replicas and resources`, () => {
      const objects = rendered(env);
      assert.deepEqual(ofKind(objects, 'Deployment').map((d) => d.metadata.name).sort(), Object.keys(ORIGINAL).sort());
      for (const [name, want] of Object.entries(ORIGINAL)) {
        const d = named(objects, 'Deployment', name);
        const c = containerOf(d);
        assert.equal(d.metadata.namespace, `swarm-${env}`);
        assert.deepEqual(c.args.slice(0, 3), ['serve', '--role', want.role], name);
        assert.equal(flag(c.args, '--host'), '0.0.0.0', `${name} listens on the pod's address`);
        assert.equal(Number(flag(c.args, '--port')), want.port, `${name} --port`);
        assert.equal(ROLE_PORTS[want.role], want.port, `the hub's own default port for --role ${want.role}`);
        assert.deepEqual(c.ports, [{ name: 'http', containerPort: want.port, protocol: 'TCP' }], name);
        const svc = named(objects, 'Service', name);
        assert.deepEqual(svc.spec.ports, [{ name: 'http', port: want.port, targetPort: 'http', protocol: 'TCP' }], `Service ${name}`);
        assert.ok(matches(svc.spec.selector, d.spec.template.metadata.labels), `Service ${name} selects the Deployment's pods`);
        assert.equal(floor(objects, d), want.replicas, `${name} replicas`);
        if ('resources' in want) assert.deepEqual(c.resources, want.resources, `${name} resources`);
        else assert.ok(c.resources.requests.cpu !== undefined && c.resources.limits.memory !== undefined, `${name} has requests and limits`);
      }
    });

    it(`${env}: autoscalers target Deployments that exist and own their replica count; budgets select each tier`, () => {
      const objects = rendered(env);
      const hpas = ofKind(objects, 'HorizontalPodAutoscaler');
      assert.deepEqual(hpas.map((h) => h.metadata.name).sort(), ['swarm-api', 'swarm-handlers']);
      for (const h of hpas) {
        const ref = h.spec.scaleTargetRef;
        const target = named(objects, ref.kind, ref.name);
        assert.equal(target.apiVersion, ref.apiVersion, `${h.metadata.name} targets ${ref.apiVersion} ${ref.kind}`);
        assert.equal(target.spec.replicas, undefined, `${ref.name}: an apply must not reset what the autoscaler scaled`);
        assert.ok(h.spec.maxReplicas > h.spec.minReplicas, `${h.metadata.name}: room to scale`);
      }
      assert.ok(named(objects, 'HorizontalPodAutoscaler', 'swarm-api').spec.maxReplicas >= (env === 'prod' ? 100 : 10), 'api scales to 100 in prod');
      for (const d of ofKind(objects, 'Deployment')) {
        const pdbs = ofKind(objects, 'PodDisruptionBudget').filter((p) => matches(p.spec.selector.matchLabels, d.spec.template.metadata.labels));
        assert.equal(pdbs.length, 1, `one disruption budget for ${d.metadata.name}`);
        const spread = d.spec.template.spec.topologySpreadConstraints as { topologyKey: string; whenUnsatisfiable: string; labelSelector: { matchLabels: Record<string, string> } }[];
        const zone = spread.find((s) => s.topologyKey === 'topology.kubernetes.io/zone');
        assert.ok(zone !== undefined && matches(zone.labelSelector.matchLabels, d.spec.template.metadata.labels), `${d.metadata.name} spreads its own pods across zones`);
        assert.equal(zone.whenUnsatisfiable, env === 'prod' ? 'DoNotSchedule' : 'ScheduleAnyway');
      }
    });

    it(`${env}: the kubelet waits for the hub's drain and grace before SIGKILL`, () => {
      const objects = rendered(env);
      const data = named(objects, 'ConfigMap', 'swarm-config-env').data as Record<string, string>;
      const drain = Number(data.SWARM_DRAIN_SECONDS);
      const grace = Number(data.SWARM_GRACE_SECONDS);
      assert.ok(drain > 0 && drain < grace, `the drain (${drain} s) counts within the grace (${grace} s)`);
      for (const d of ofKind(objects, 'Deployment')) {
        const spec = d.spec.template.spec;
        const preStop = containerOf(d).lifecycle.preStop.sleep.seconds as number;
        assert.ok(preStop >= 3, `${d.metadata.name}: preStop ${preStop} s lets the endpoints update first`);
        assert.ok(spec.terminationGracePeriodSeconds >= preStop + grace + 3, `${d.metadata.name}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} < preStop ${preStop} + grace ${grace} + 3`);
      }
    });
  }

  it('the tiers\' commands serve their probe paths and /metrics on PostgreSQL, and SIGTERM drains in time', { timeout: 120_000 }, async (t) => {
    const objects = rendered('prod');
    const data = named(objects, 'ConfigMap', 'swarm-config-env').data as Record<string, string>;
    const schema = testSchema(t, 'swarm_k8s');
    // The ConfigMap's settings, with this test's database and schema; --data stays a temp directory.
    const env = { ...data, SWARM_DATABASE: testDatabaseUrl(), SWARM_DB_SCHEMA: schema, SWARM_LOG_LEVEL: 'warn' };
    const procs: HubProcess[] = [];
    t.after(() => Promise.all(procs.map((p) => p.kill())));
    const dir = tempDir();
    for (const d of ofKind(objects, 'Deployment')) {
      const c = containerOf(d);
      const args = (c.args as string[]).slice(1).filter((_a, i, all) => !['--port', '--host'].includes(all[i] as string) && !['--port', '--host'].includes(all[i - 1] as string));
      const p = await spawnHub(join(dir, d.metadata.name), { env, args });
      procs.push(p);
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        const path = c[probe].httpGet.path as string;
        assert.equal(c[probe].httpGet.port, 'http');
        const r = await fetch(`${p.url}${path}`);
        assert.equal(r.status, 200, `${d.metadata.name} ${probe} ${path}`);
      }
      assert.equal((await fetch(`${p.url}/metrics`)).status, 200, `${d.metadata.name} /metrics (the ServiceMonitor's path)`);
      if (d.metadata.name === 'swarm-config') assert.equal((await fetch(`${p.url}/v1/config`)).status, 401, 'config serves /v1/config (the Ingress routes it there)');
    }
    // SIGTERM to api: /readyz 503 while it still serves, then exit 0 within SWARM_GRACE_SECONDS.
    const api = procs[0] as HubProcess;
    const started = Date.now();
    const exited = api.stop();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await fetch(`${api.url}/readyz`)).status, 503, 'out of rotation while draining');
    assert.equal((await fetch(`${api.url}/healthz`)).status, 200, 'still alive, still serving');
    assert.equal(await exited, 0);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds >= Number(data.SWARM_DRAIN_SECONDS) && seconds < Number(data.SWARM_GRACE_SECONDS), `stopped after ${seconds.toFixed(1)} s`);
  });
});
