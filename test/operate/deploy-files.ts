// The operations files of deploy/ as the tests see them: the expressions of the alert and
// recording rules and of the Grafana dashboards, and the metric names those expressions use.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { ROOT } from '../support/paths.js';

export const DEPLOY = join(ROOT, 'deploy');
export const RULES = join(DEPLOY, 'prometheus', 'rules.yml');
export const DASHBOARDS = join(DEPLOY, 'grafana', 'dashboards');

export interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function rules(): Rule[] {
  const doc = parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

export function dashboardExprs(): { file: string; expr: string }[] {
  const out: { file: string; expr: string }[] = [];
  for (const file of readdirSync(DASHBOARDS).filter((f) => f.endsWith('.json'))) {
    const d = JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8')) as { panels: { targets?: { expr: string }[] }[] };
    for (const p of d.panels) for (const t of p.targets ?? []) out.push({ file, expr: t.expr });
  }
  return out;
}

/** Every expression with where it comes from. */
export function allExprs(): { where: string; expr: string }[] {
  return [...rules().map((r) => ({ where: `rules.yml ${r.alert ?? r.record}`, expr: r.expr })), ...dashboardExprs().map((d) => ({ where: d.file, expr: d.expr }))];
}

/**
 * The series names an expression reads: `swarm_…` identifiers (not recording rules' `swarm:…`
 * names, not label values in quotes) and Prometheus's `up`.
 */
export function metricNames(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '""');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w:])([a-zA-Z_][\w:]*)(?![\w:])/g)) {
    const name = m[1] as string;
    if (name.startsWith('swarm_') || (name === 'up' && /(?<![\w:])up\s*[{)=<>!]/.test(bare))) names.add(name);
  }
  return [...names];
}

/** Recording rules' names (`swarm:…`) the expressions read. */
export function recordedNames(expr: string): string[] {
  return [...new Set([...expr.replace(/"(?:[^"\\]|\\.)*"/g, '""').matchAll(/(?<![\w:])(swarm:[\w:]+)/g)].map((m) => m[1] as string))];
}

/** Every metric name used anywhere in the rules and dashboards. */
export function usedMetricNames(): string[] {
  return [...new Set(allExprs().flatMap((e) => metricNames(e.expr)))].sort();
}
