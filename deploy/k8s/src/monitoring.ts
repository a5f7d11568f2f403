// The Prometheus operator's objects: a ServiceMonitor scraping /metrics of every tier's Service,
// and a PrometheusRule holding deploy/prometheus/rules.yml, converted, not copied: the generator
// reads that file, so the alerts a cluster runs are the ones promtool tests
// (deploy/prometheus/rules.test.yml). The operator labels each series with the Service's name as
// `job` (swarm-api, swarm-config, swarm-handlers), which the rules' `job=~"swarm.*"` matches.
import { type IPrometheusRule, PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { type IServiceMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { parse } from 'yaml';
import { HUB_PODS, labels } from './labels.js';

export function serviceMonitor(): IServiceMonitor {
  return new ServiceMonitor({
    metadata: { name: 'swarm', labels: labels('monitoring') },
    spec: {
      selector: { matchLabels: HUB_PODS },
      endpoints: [{ port: 'http', path: '/metrics', scheme: 'http', interval: '15s', scrapeTimeout: '10s' }],
    },
  }).toJSON() as IServiceMonitor;
}

type RuleGroup = NonNullable<NonNullable<IPrometheusRule['spec']>['groups']>[number];
type Rule = NonNullable<RuleGroup['rules']>[number];

const RULE_KEYS = ['alert', 'record', 'expr', 'for', 'labels', 'annotations'] as const;
const GROUP_KEYS = ['name', 'interval', 'rules'] as const;

/** Every key of `o` must be one of `known`: a field rules.yml gains is converted, never dropped. */
function onlyKnown(o: Record<string, unknown>, known: readonly string[], where: string): void {
  const unknown = Object.keys(o).filter((k) => !known.includes(k));
  if (unknown.length > 0) throw new Error(`${where}: ${unknown.join(', ')} not converted to the PrometheusRule (deploy/k8s/src/monitoring.ts)`);
}

/** deploy/prometheus/rules.yml's groups, as the PrometheusRule's spec.groups. */
export function ruleGroups(rulesYaml: string): RuleGroup[] {
  const doc = parse(rulesYaml) as { groups?: Record<string, unknown>[] };
  if (!Array.isArray(doc.groups) || doc.groups.length === 0) throw new Error('deploy/prometheus/rules.yml: no groups');
  return doc.groups.map((g, i) => {
    onlyKnown(g, GROUP_KEYS, `rules.yml group ${i}`);
    const rules = (g.rules as Record<string, unknown>[]).map((r, j) => {
      onlyKnown(r, RULE_KEYS, `rules.yml group ${String(g.name)} rule ${j}`);
      return Object.fromEntries(RULE_KEYS.filter((k) => r[k] !== undefined).map((k) => [k, r[k]])) as Rule;
    });
    return { name: String(g.name), ...(g.interval === undefined ? {} : { interval: String(g.interval) }), rules };
  });
}

export function prometheusRule(rulesYaml: string): IPrometheusRule {
  return new PrometheusRule({
    metadata: { name: 'swarm', labels: labels('monitoring') },
    spec: { groups: ruleGroups(rulesYaml) },
  }).toJSON() as IPrometheusRule;
}
