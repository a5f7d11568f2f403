// Autoscaling and disruption budgets.
//
// api scales on CPU (70 % of its 250m request), from the original's 3 to 100 pods.
//
// handlers scale on the hub's queue depth: swarm_queue_depth, the one backlog gauge the hub exports
// (docs/metrics.md), served to the autoscaler by the Prometheus adapter as an external metric. Not
// a Pods metric: every pod reports the same store-wide value per agent (read from the store at
// scrape), so an average over pods would be the whole backlog and grow with the pod count. The
// adapter's rule (prometheusAdapterRules below, rendered to deploy/k8s/prometheus-adapter.yaml)
// takes the max over pods for each agent, then the sum over agents: desired pods =
// ceil(backlog / 500), between the original's 5 and 20.
//
// A proxy, said plainly: the gauge counts deliveries waiting in agents' inboxes. Workers push those
// of agents with delivery targets (webhooks), so a backlog there is work more workers drain; a
// backlog of agents that simply do not read is not, and only raises the pod count to its ceiling.
// The hub exports no gauge of pending pushes yet.
import { HorizontalPodAutoscaler, type IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import { type IPodDisruptionBudget, PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { componentOf, labels, selector } from './labels.js';
import { type Tier, tier, TIERS } from './topology.js';

/** The gauge the hub exports (src/observability/metrics.ts) and the external metric made of it. */
export const QUEUE_METRIC = { source: 'swarm_queue_depth', external: 'swarm_hub_queue_depth', perPod: 500 } as const;

function hpa(t: Tier, maxReplicas: number, spec: Pick<NonNullable<IHorizontalPodAutoscaler['spec']>, 'metrics' | 'behavior'>): IHorizontalPodAutoscaler {
  return new HorizontalPodAutoscaler({
    metadata: { name: t.name, labels: labels(componentOf(t)) },
    spec: {
      scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: t.name },
      minReplicas: t.replicas,
      maxReplicas,
      ...spec,
    },
  }).toJSON() as IHorizontalPodAutoscaler;
}

/** Scaling down closes streams (clients reconnect elsewhere): slowly, after 5 quiet minutes. */
const GENTLE_SCALE_DOWN = { stabilizationWindowSeconds: 300, policies: [{ type: 'Percent', value: 10, periodSeconds: 60 }] };

export function autoscalers(maxReplicas: Partial<Record<string, number>>): IHorizontalPodAutoscaler[] {
  const api = tier('swarm-api');
  const handlers = tier('swarm-handlers');
  return [
    hpa(api, maxReplicas[api.name] ?? api.maxReplicas ?? api.replicas, {
      metrics: [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }],
      behavior: { scaleDown: GENTLE_SCALE_DOWN },
    }),
    hpa(handlers, maxReplicas[handlers.name] ?? handlers.maxReplicas ?? handlers.replicas, {
      metrics: [
        {
          type: 'External',
          external: {
            metric: { name: QUEUE_METRIC.external, selector: { matchLabels: { service: handlers.name } } },
            target: { type: 'AverageValue', averageValue: String(QUEUE_METRIC.perPod) },
          },
        },
      ],
      behavior: { scaleDown: GENTLE_SCALE_DOWN },
    }),
  ];
}

/**
 * Voluntary disruptions (node drains, upgrades) take at most a quarter of api and handlers at once,
 * and one of the two config pods.
 */
export function disruptionBudgets(): IPodDisruptionBudget[] {
  return TIERS.map((t) => {
    const c = componentOf(t);
    return new PodDisruptionBudget({
      metadata: { name: t.name, labels: labels(c) },
      spec: { selector: { matchLabels: selector(c) }, maxUnavailable: t.replicas <= 2 ? 1 : '25%' },
    }).toJSON() as IPodDisruptionBudget;
  });
}

/**
 * The Prometheus adapter's external rule for the handlers' autoscaler (its `externalRules:`
 * configuration; the adapter adds the HPA's namespace and selector as label matchers). Series come
 * from the ServiceMonitor's scrapes, which label them with namespace and service.
 */
export function prometheusAdapterRules(): Record<string, unknown> {
  return {
    externalRules: [
      {
        seriesQuery: `${QUEUE_METRIC.source}{namespace!="",service!=""}`,
        resources: { overrides: { namespace: { resource: 'namespace' } } },
        name: { matches: `^${QUEUE_METRIC.source}$`, as: QUEUE_METRIC.external },
        metricsQuery: 'sum by (namespace) (max by (namespace, agent) (<<.Series>>{<<.LabelMatchers>>}))',
      },
    ],
  };
}
