// Every metric the alert rules and the Grafana dashboards use is one the hub exports: names taken
// from the registry that createMetrics() builds (plus a histogram's _bucket/_sum/_count series, and
// Prometheus's own `up`), and recording rules' names from rules.yml. Also: the committed dashboards
// are what scripts/dashboards.mjs writes.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { createMetrics } from '../../src/observability/metrics.js';
import { ROOT } from '../support/paths.js';
import { allExprs, DASHBOARDS, metricNames, recordedNames, rules } from './deploy-files.js';

/** Series names the hub's registry exposes (after one scrape, so the default metrics are there). */
export async function exportedNames(): Promise<Set<string>> {
  const m = createMetrics();
  const names = new Set<string>(['up']);
  for (const metric of await m.registry.getMetricsAsJSON()) {
    names.add(metric.name);
    if (String(metric.type) === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(`${metric.name}${s}`);
  }
  return names;
}

describe('metric names in deploy/', () => {
  it('every name the rules and dashboards use is exported by the hub or recorded by rules.yml', async () => {
    const exported = await exportedNames();
    const recorded = new Set(rules().flatMap((r) => (r.record === undefined ? [] : [r.record])));
    const missing: string[] = [];
    let seen = 0;
    for (const { where, expr } of allExprs()) {
      for (const name of metricNames(expr)) {
        seen += 1;
        if (!exported.has(name)) missing.push(`${where}: ${name}`);
      }
      for (const name of recordedNames(expr)) if (!recorded.has(name)) missing.push(`${where}: ${name} (no such recording rule)`);
    }
    assert.ok(seen > 50, `only ${seen} names found: the extraction is broken`);
    assert.deepEqual(missing, []);
  });

  it('the extraction finds names and leaves label values and recording rules alone', () => {
    assert.deepEqual(metricNames('sum(rate(swarm_a_total{route="swarm_not_a_metric"}[5m])) / swarm:x:rate5m + up{job="x"}').sort(), ['swarm_a_total', 'up']);
    assert.deepEqual(recordedNames('swarm:x:rate5m > 1'), ['swarm:x:rate5m']);
  });

  it('the committed dashboards are what scripts/dashboards.mjs writes', async () => {
    const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'dashboards.mjs')).href)) as { dashboardFiles(): Record<string, string> };
    const files = mod.dashboardFiles();
    assert.deepEqual(readdirSync(DASHBOARDS).sort(), Object.keys(files).sort());
    for (const [name, text] of Object.entries(files)) {
      assert.equal(readFileSync(join(DASHBOARDS, name), 'utf8'), text, `${name}: run node scripts/dashboards.mjs`);
      const d = JSON.parse(text) as { schemaVersion: number; panels: unknown[] };
      assert.equal(d.schemaVersion, 39);
    }
  });
});
