// The labels every object carries, and the selectors built from them. `component` tells the pods of
// one tier (api, config, handlers) and the migration Job's apart; NetworkPolicies and the
// ServiceMonitor select every hub pod by app.kubernetes.io/part-of.
import { PART_OF, type Tier } from './topology.js';

export type Component = 'api' | 'config' | 'handlers' | 'migrate' | 'settings' | 'ingress' | 'monitoring' | 'network';

/** A pod selector: stable for the life of a Deployment (its selector is immutable). */
export function selector(component: Component): Record<string, string> {
  return { 'app.kubernetes.io/name': 'swarm', 'app.kubernetes.io/component': component };
}

export function labels(component: Component): Record<string, string> {
  return { ...selector(component), 'app.kubernetes.io/part-of': PART_OF };
}

/** Every hub pod (the three tiers and the migration Job). */
export const HUB_PODS = { 'app.kubernetes.io/part-of': PART_OF };

/** A tier's component: its name without `swarm-` (api, config, handlers). */
export function componentOf(t: Tier): Component {
  return t.name.replace(/^swarm-/, '') as Component;
}
