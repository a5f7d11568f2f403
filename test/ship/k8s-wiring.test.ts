// How the rendered objects refer to each other and to the hub: every variable a pod sets is a
// setting the hub reads, every ConfigMap key and Secret key a pod reads is declared; the Ingress,
// NetworkPolicies and ServiceMonitor name Services, ports and pods that exist; the PrometheusRule is
// deploy/prometheus/rules.yml; the handlers' autoscaler uses the adapter's metric, made of a gauge
// the hub exports; the migration Job runs a command the CLI has and fails fast on the exit codes
// that a retry cannot fix.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SECRET_KEYS } from '../../deploy/k8s/src/settings.js';
import { buildProgram } from '../../src/cli/program.js';
import { CONFIG_KEYS } from '../../src/config/keys.js';
import { exitCodeOf } from '../../src/errors.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { ROOT } from '../support/paths.js';
import { ENVS, K8S, loadYaml, named, ofKind, type Obj, podTemplates, rendered } from './manifests.js';

const SETTINGS_ENV = new Set<string>(Object.values(CONFIG_KEYS).map((k) => k.env));
const matches = (selector: Record<string, string>, labels: Record<string, string>): boolean => Object.entries(selector).every(([k, v]) => labels[k] === v);

describe('deploy/k8s: references', () => {
  for (const env of ENVS) {
    it(`${env}: every variable is a setting; every ConfigMap and Secret key read is declared`, () => {
      const objects = rendered(env);
      const configData = named(objects, 'ConfigMap', 'swarm-config-env').data as Record<string, string>;
      const templates = podTemplates(objects);
      assert.equal(templates.length, 4, 'three Deployments and the Job');
      const secretKeysRead = new Set<string>();
      for (const { owner, spec } of templates) {
        for (const c of spec.containers) {
          for (const v of c.env as { name: string; valueFrom: any }[]) {
            assert.ok(SETTINGS_ENV.has(v.name), `${owner}: ${v.name} is no setting of src/config/keys.ts`);
            const cm = v.valueFrom?.configMapKeyRef;
            const sec = v.valueFrom?.secretKeyRef;
            assert.ok((cm === undefined) !== (sec === undefined), `${owner}: ${v.name} comes from the ConfigMap or the Secret`);
            if (cm !== undefined) {
              assert.equal(cm.name, 'swarm-config-env');
              assert.ok(cm.key in configData, `${owner}: ConfigMap key ${cm.key} is not declared`);
            } else {
              assert.equal(sec.name, 'swarm-secrets');
              const declared = SECRET_KEYS.find((s) => s.key === sec.key);
              assert.ok(declared !== undefined, `${owner}: Secret key ${sec.key} is not declared`);
              assert.equal(declared.env, v.name, `${owner}: ${sec.key} feeds ${declared.env}`);
              assert.equal(sec.optional === true, declared.optional, `${owner}: ${sec.key} optional as declared`);
              secretKeysRead.add(sec.key);
            }
          }
          assert.ok(c.env.some((v: { name: string }) => v.name === 'SWARM_DATABASE'), `${owner} reads the database URL`);
        }
      }
      assert.deepEqual([...secretKeysRead].sort(), SECRET_KEYS.map((s) => s.key).sort(), 'every declared key is read');
      const example = loadYaml(join(K8S, 'secret.example.yaml'))[0] as Obj;
      assert.deepEqual(Object.keys(example.stringData).sort(), [...secretKeysRead].sort(), 'secret.example.yaml has every key');
      for (const key of Object.keys(configData)) assert.ok(SETTINGS_ENV.has(key), `ConfigMap key ${key} is no setting`);
    });

    it(`${env}: the Ingress, NetworkPolicies and ServiceMonitor name what exists`, () => {
      const objects = rendered(env);
      const ing = named(objects, 'Ingress', 'swarm');
      assert.ok(ing.metadata.annotations?.['cert-manager.io/cluster-issuer'], 'cert-manager issues the certificate');
      const hosts = ing.spec.rules.map((r: { host: string }) => r.host);
      assert.deepEqual(ing.spec.tls[0].hosts, hosts, 'the certificate covers the hosts routed');
      for (const p of ing.spec.rules.flatMap((r: any) => r.http.paths)) {
        const svc = named(objects, 'Service', p.backend.service.name);
        assert.ok(svc.spec.ports.some((x: { name: string }) => x.name === p.backend.service.port.name), `${p.path} → ${svc.metadata.name} port ${p.backend.service.port.name}`);
      }
      const policies = ofKind(objects, 'NetworkPolicy');
      const deployments = ofKind(objects, 'Deployment');
      for (const name of ['swarm-api', 'swarm-config']) {
        const d = named(objects, 'Deployment', name);
        const port = d.spec.template.spec.containers[0].ports[0].containerPort;
        const fromIngress = policies.filter((p) => (p.spec.ingress ?? []).length > 0 && matches(p.spec.podSelector.matchLabels, d.spec.template.metadata.labels) && p.spec.ingress.some((r: any) => r.from.some((f: any) => f.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'ingress-nginx')));
        assert.equal(fromIngress.length, 1, `${name}: one policy lets the ingress controller in`);
        assert.deepEqual(fromIngress[0]?.spec.ingress[0].ports, [{ protocol: 'TCP', port }], `${name}: on its port only`);
      }
      const deny = named(objects, 'NetworkPolicy', 'swarm-default-deny');
      assert.deepEqual(deny.spec.policyTypes, ['Ingress', 'Egress']);
      for (const t of podTemplates(objects)) assert.ok(matches(deny.spec.podSelector.matchLabels, objects.find((o) => `${o.kind}/${o.metadata.name}` === t.owner)?.spec.template.metadata.labels), `${t.owner} is denied by default`);
      const toPostgres = named(objects, 'NetworkPolicy', 'swarm-to-dns-and-postgres').spec.egress.flatMap((r: any) => r.ports.map((p: any) => p.port));
      assert.ok(toPostgres.includes(5432) && toPostgres.includes(53));
      const scraped = named(objects, 'NetworkPolicy', 'swarm-from-prometheus').spec.ingress[0].ports.map((p: { port: number }) => p.port);
      assert.deepEqual(scraped, deployments.map((d) => d.spec.template.spec.containers[0].ports[0].containerPort));
      const sm = named(objects, 'ServiceMonitor', 'swarm');
      const monitored = ofKind(objects, 'Service').filter((s) => matches(sm.spec.selector.matchLabels, s.metadata.labels ?? {}));
      assert.deepEqual(monitored.map((s) => s.metadata.name).sort(), ['swarm-api', 'swarm-config', 'swarm-handlers']);
      for (const s of monitored) assert.ok(s.spec.ports.some((p: { name: string }) => p.name === sm.spec.endpoints[0].port), `${s.metadata.name} has the scraped port`);
    });

    it(`${env}: the PrometheusRule is rules.yml; the handlers scale on the adapter's metric of an exported gauge`, async () => {
      const objects = rendered(env);
      const rules = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'rules.yml'), 'utf8')) as { groups: unknown[] };
      assert.deepEqual(named(objects, 'PrometheusRule', 'swarm').spec.groups, rules.groups);
      const adapter = loadYaml(join(K8S, 'prometheus-adapter.yaml'))[0] as Obj;
      const rule = adapter.externalRules[0];
      const metric = named(objects, 'HorizontalPodAutoscaler', 'swarm-handlers').spec.metrics[0];
      assert.equal(metric.type, 'External');
      assert.equal(metric.external.metric.name, rule.name.as, 'the autoscaler asks for the metric the adapter serves');
      const source = /^\^(\w+)\$$/.exec(rule.name.matches)?.[1];
      assert.ok(source !== undefined && rule.seriesQuery.startsWith(`${source}{`), 'the rule reads the gauge it names');
      const exported = (await createMetrics().registry.getMetricsAsJSON()).map((m) => m.name);
      assert.ok(exported.includes(source), `${source} is a metric the hub exports`);
      for (const [k, v] of Object.entries(metric.external.metric.selector.matchLabels as Record<string, string>)) {
        assert.ok(rule.seriesQuery.includes(`${k}!=""`), `the adapter keeps the ${k} label the selector matches`);
        assert.ok(ofKind(objects, 'Service').some((s) => s.metadata.name === v), `${k}=${v} names a Service the ServiceMonitor scrapes`);
      }
    });

    it(`${env}: the migration Job runs \`swarm serve --migrate-only\` and stops retrying on exits a retry cannot fix`, () => {
      const objects = rendered(env);
      const job = named(objects, 'Job', 'swarm-migrate');
      const c = job.spec.template.spec.containers[0];
      assert.deepEqual(c.args, ['serve', '--migrate-only']);
      const serve = buildProgram('0').commands.find((x) => x.name() === 'serve');
      assert.ok(serve?.options.some((o) => o.long === '--migrate-only'), 'the CLI has the flag');
      assert.equal(job.spec.template.spec.restartPolicy, 'Never');
      const rule = job.spec.podFailurePolicy.rules[0];
      assert.equal(rule.action, 'FailJob');
      assert.equal(rule.onExitCodes.containerName, c.name);
      assert.deepEqual(rule.onExitCodes.values, [exitCodeOf('config_invalid'), exitCodeOf('schema_too_new')]);
      assert.ok(job.spec.backoffLimit > 0, 'an unreachable database (exit 8) is retried');
      assert.ok(ofKind(loadYaml(join(K8S, 'rendered', `${env}.yaml`)), 'Job').length === 0, 'the Job is applied on its own, before the hub');
    });
  }
});
