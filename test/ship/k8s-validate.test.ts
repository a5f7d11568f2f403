// Every object of every YAML file under deploy/k8s/ validates against its Kubernetes (or Prometheus
// operator) schema with kubernetes-models 4.x. Those schemas let unknown fields through; the
// definitions are typed (tsc refuses an unknown field there) and the committed files are proved
// to be their rendering (k8s-render.test.ts). A kind without a model here fails the test.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { Ingress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ROOT } from '../support/paths.js';
import { loadYaml, type Obj, yamlFiles } from './manifests.js';

type Model = { apiVersion: string; kind: string } & (new (data: any) => { validate(): void });
const MODELS: Model[] = [Deployment, Service, HorizontalPodAutoscaler, Job, Ingress, NetworkPolicy, PodDisruptionBudget, ConfigMap, Namespace, Secret, ServiceMonitor, PrometheusRule];

/** Validates one object with its model; throws naming the object and what is wrong. */
function validateObject(o: Obj, where: string): void {
  const model = MODELS.find((m) => m.apiVersion === o.apiVersion && m.kind === o.kind);
  if (model === undefined) throw new Error(`${where}: no model for ${o.apiVersion} ${o.kind}: add one to test/ship/k8s-validate.test.ts`);
  const { apiVersion: _a, kind: _k, ...data } = o;
  try {
    new model(data).validate();
  } catch (e) {
    throw new Error(`${where}: ${o.kind} ${o.metadata?.name}: ${(e as Error).message}`);
  }
}

const KUSTOMIZATION = 'kustomize.config.k8s.io/v1beta1';

describe('deploy/k8s: every object validates with kubernetes-models 4.x', () => {
  it('each file\'s objects (kustomizations and the adapter rule aside) pass their schema', () => {
    const kinds = new Set<string>();
    let count = 0;
    for (const file of yamlFiles()) {
      for (const o of loadYaml(join(ROOT, file))) {
        if (o.apiVersion === KUSTOMIZATION || file.endsWith('prometheus-adapter.yaml')) continue;
        validateObject(o, file);
        kinds.add(o.kind);
        count += 1;
      }
    }
    assert.ok(count > 60, `only ${count} objects validated`);
    assert.deepEqual([...kinds].sort(), MODELS.map((m) => m.kind).sort(), 'every kind the definitions make, and no other');
  });

  it('the validation refuses a wrong value, and an unknown kind', () => {
    const [deployment] = loadYaml(join(ROOT, 'deploy/k8s/base/deployments.yaml'));
    assert.ok(deployment !== undefined);
    const broken = structuredClone(deployment);
    broken.spec.template.spec.containers[0].ports[0].containerPort = '8080';
    assert.throws(() => validateObject(broken, 'test'), /containerPort must be integer/);
    assert.throws(() => validateObject({ ...deployment, kind: 'Deploymnet' }, 'test'), /no model for apps\/v1 Deploymnet/);
  });
});
