// The Prometheus and Alertmanager files of deploy/ checked by the tools themselves: promtool checks
// the rules and the scrape config and runs the rules' unit tests (rules.test.yml), amtool checks the
// routing. The tools come from Debian's prometheus and prometheus-alertmanager packages, installed
// when missing. Also: every alert has a severity and a runbook section that exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { requireCommand } from '../support/debian.js';
import { ROOT } from '../support/paths.js';
import { rules } from './deploy-files.js';

function run(cmd: string, args: string[]): { code: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}${r.error?.message ?? ''}` };
}

describe('deploy/prometheus and deploy/alertmanager', () => {
  it('promtool accepts the rules, runs their unit tests green, and accepts the scrape config', async () => {
    const promtool = await requireCommand('promtool', 'prometheus', 'the alert rules are checked with promtool');
    for (const args of [
      ['check', 'rules', 'deploy/prometheus/rules.yml'],
      ['test', 'rules', 'deploy/prometheus/rules.test.yml'],
      ['check', 'config', 'deploy/prometheus/prometheus.yml'],
    ]) {
      const r = run(promtool, args);
      assert.equal(r.code, 0, `promtool ${args.join(' ')}:\n${r.out}`);
    }
  });

  it('amtool accepts the Alertmanager config', async () => {
    const amtool = await requireCommand('amtool', 'prometheus-alertmanager', 'the Alertmanager routing is checked with amtool');
    const r = run(amtool, ['check-config', 'deploy/alertmanager/alertmanager.yml']);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, /3 receivers/);
  });

  it('every alert has a severity and a runbook_url naming a section of docs/runbook.md', () => {
    const runbook = readFileSync(join(ROOT, 'docs', 'runbook.md'), 'utf8');
    const anchors = new Set([...runbook.matchAll(/^## (.+)$/gm)].map((m) => (m[1] as string).trim().toLowerCase().replace(/[^\w\- ]/g, '').replace(/ /g, '-')));
    const alerts = rules().filter((r) => r.alert !== undefined);
    assert.ok(alerts.length >= 10, `${alerts.length} alerts`);
    for (const a of alerts) {
      assert.match(a.labels?.severity ?? '', /^(critical|warning|info)$/, `${a.alert}: severity`);
      const url = a.annotations?.runbook_url ?? '';
      assert.match(url, /^docs\/runbook\.md#/, `${a.alert}: runbook_url ${url}`);
      assert.ok(anchors.has(url.split('#')[1] as string), `${a.alert}: no section "## ${a.alert}" in docs/runbook.md`);
    }
  });
});
