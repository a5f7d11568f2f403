// scripts/rollout.mjs, the deploy and the rollback of the release workflow. No cluster can run
// here: kubectl is a stand-in (kubectl-stub.ts) whose `kustomize` is the real kubectl's, and which
// logs every other call. Checked: the order (everything else, then the migration Job to completion,
// then the Deployments and their rollouts), the image and release set by the rendering, a failed
// migration or rollout stopping with its reason in the job summary, refusals before anything is
// applied, and an undo that takes back only the Deployments the release reached. The repository's
// own overlays render through the same path with the names the workflow relies on.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { ROOT } from '../support/paths.js';
import { type CliResult, runCli } from '../support/process.js';
import { tempDir } from '../support/temp.js';
import type { StubCall, StubState } from './kubectl-stub.js';

const ROLLOUT = join(ROOT, 'scripts', 'rollout.mjs');
const STUB = join(ROOT, 'dist', 'test', 'ship', 'kubectl-stub.js');
const DIGEST = `sha256:${'0123456789abcdef'.repeat(4)}`;
const IMAGE = `ghcr.io/swarm-hub/swarm@${DIGEST}`;
const KUBECTL = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0 ? 'kubectl' : null;
const NO_KUBECTL = 'kubectl is not on this machine: `kubectl kustomize` renders the overlays (a fresh machine cannot install it; see docs/deployment.md#cicd)';

interface Run {
  r: CliResult;
  calls: StubCall[];
  summary: string;
}

/** rollout.mjs ARGS with the stub as kubectl in `state`. */
async function rollout(args: string[], state: StubState, env: Record<string, string> = {}): Promise<Run> {
  const dir = tempDir('swarm-rollout-test-');
  const kubectl = join(dir, 'kubectl');
  writeFileSync(kubectl, `#!/bin/sh\nexec '${process.execPath}' '${STUB}' "$@"\n`);
  chmodSync(kubectl, 0o755);
  writeFileSync(join(dir, 'state.json'), JSON.stringify(state));
  writeFileSync(join(dir, 'calls.log'), '');
  const summary = join(dir, 'summary.md');
  const r = await runCli(args, {
    bin: ROLLOUT,
    cwd: ROOT,
    timeoutMs: 60_000,
    env: { KUBECTL: kubectl, REAL_KUBECTL: KUBECTL ?? 'kubectl', STUB_STATE: join(dir, 'state.json'), STUB_LOG: join(dir, 'calls.log'), GITHUB_STEP_SUMMARY: summary, ...env },
  });
  const calls = readFileSync(join(dir, 'calls.log'), 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as StubCall);
  return { r, calls, summary: existsSync(summary) ? readFileSync(summary, 'utf8') : '' };
}

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}, annotations: {prometheus.io/scrape: "true"}}
    spec:
      initContainers: [{name: wait, image: ghcr.io/swarm-hub/swarm:0.1.0}]
      containers: [{name: hub, image: ghcr.io/swarm-hub/swarm:0.1.0}, {name: sidecar, image: docker.io/library/busybox:1.36}]
`;

const JOB = 'apiVersion: batch/v1\nkind: Job\nmetadata: {name: swarm-migrate}\nspec:\n  template:\n    spec:\n      restartPolicy: Never\n      containers: [{name: migrate, image: ghcr.io/swarm-hub/swarm:0.1.0, args: [serve, --migrate-only]}]\n';
const CONFIG_MAP = (level: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: swarm-config-env}\ndata: {SWARM_LOG_LEVEL: ${level}}\n`;

/**
 * A base like deploy/k8s's (the three Deployments, the migration Job, a ConfigMap, a Service) and
 * an overlay in `namespace`; `apart`: the Job in the overlay's migrate/ with the ConfigMap it reads
 * (deploy/k8s's layout), at `level` there.
 */
function fixture(namespace: string, o: { deployments?: string[]; apart?: boolean; level?: string } = {}): string {
  const dir = tempDir('swarm-overlay-');
  for (const d of ['base', 'overlay', 'migrate-base', 'overlay/migrate']) mkdirSync(join(dir, d));
  const objects = [
    ...(o.deployments ?? ['swarm-api', 'swarm-config', 'swarm-handlers']).map(deployment),
    CONFIG_MAP('info'),
    'apiVersion: v1\nkind: Service\nmetadata: {name: swarm-api}\nspec:\n  selector: {app: swarm-api}\n  ports: [{port: 8080}]\n',
  ];
  writeFileSync(join(dir, 'base', 'all.yaml'), [...objects, ...(o.apart === true ? [] : [JOB])].join('---\n'));
  writeFileSync(join(dir, 'base', 'kustomization.yaml'), 'resources: [all.yaml]\n');
  writeFileSync(join(dir, 'overlay', 'kustomization.yaml'), `namespace: ${namespace}\nresources: [../base]\n`);
  if (o.apart === true) {
    writeFileSync(join(dir, 'migrate-base', 'all.yaml'), [CONFIG_MAP(o.level ?? 'info'), JOB].join('---\n'));
    writeFileSync(join(dir, 'migrate-base', 'kustomization.yaml'), 'resources: [all.yaml]\n');
    writeFileSync(join(dir, 'overlay', 'migrate', 'kustomization.yaml'), `namespace: ${namespace}\nresources: [../../migrate-base]\n`);
  }
  return join(dir, 'overlay');
}

const verbs = (calls: StubCall[]) =>
  calls.map((c) =>
    c.args
      .filter((a, i) => a !== '--namespace' && c.args[i - 1] !== '--namespace')
      .slice(0, c.args[0] === 'kustomize' ? 1 : 3)
      .join(' '),
  );
const applied = (calls: StubCall[]) => calls.filter((c) => c.args[0] === 'apply').map((c) => parseAllDocuments(c.input).map((d) => d.toJS()));
const deploy = (overlay: string, namespace = 'swarm-dev', image = IMAGE) => ['deploy', '--overlay', overlay, '--namespace', namespace, '--image', image, '--release', '42', '--timeout', '5'];

describe('scripts/rollout.mjs deploy', () => {
  it('applies the rest, runs the migration Job to completion, then rolls out the Deployments with the image and the release', { skip: KUBECTL === null ? NO_KUBECTL : false }, async () => {
    const { r, calls, summary } = await rollout(deploy(fixture('swarm-dev')), { migrate: 'Complete' }, { SWARM_KUBECONFIG: 'apiVersion: v1\nkind: Config\n' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verbs(calls), [
      'kustomize',
      'apply -f -',
      'delete job swarm-migrate',
      'apply -f -',
      'get job swarm-migrate',
      'apply -f -',
      'rollout status deployment/swarm-api',
      'rollout status deployment/swarm-config',
      'rollout status deployment/swarm-handlers',
    ]);
    const [others, job, deployments] = applied(calls);
    assert.deepEqual(others?.map((o) => `${o.kind}/${o.metadata.name}@${o.metadata.namespace}`), ['ConfigMap/swarm-config-env@swarm-dev', 'Service/swarm-api@swarm-dev']);
    assert.deepEqual(job?.map((o) => [o.kind, o.metadata.name, o.spec.template.spec.containers[0].image]), [['Job', 'swarm-migrate', IMAGE]]);
    for (const d of deployments ?? []) {
      const images = [...d.spec.template.spec.initContainers, ...d.spec.template.spec.containers].map((c: { image: string }) => c.image);
      assert.deepEqual(images, [IMAGE, IMAGE, 'docker.io/library/busybox:1.36'], d.metadata.name);
      assert.deepEqual(d.spec.template.metadata.annotations, { 'prometheus.io/scrape': 'true', 'swarm-hub/release': '42' });
    }
    assert.equal(deployments?.length, 3);
    for (const c of calls.slice(1)) assert.deepEqual(c.kubeconfig, { text: 'apiVersion: v1\nkind: Config\n', mode: 0o600 }, 'the secret kubeconfig, private');
    assert.match(summary, /### Deploy of release 42 to swarm-dev: done/);
    assert.match(summary, /\| migration \| ok \| Job swarm-migrate completed \|/);
  });

  it('takes the migration Job from the overlay\'s migrate/ kustomization when it is kept apart', { skip: KUBECTL === null ? NO_KUBECTL : false }, async () => {
    const { r, calls, summary } = await rollout(deploy(fixture('swarm-dev', { apart: true })), { migrate: 'Complete' });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(verbs(calls).slice(0, 4), ['kustomize', 'kustomize', 'apply -f -', 'delete job swarm-migrate']);
    const [others, job] = applied(calls);
    assert.deepEqual(others?.map((o) => o.kind), ['ConfigMap', 'Service'], 'the ConfigMap both render, once');
    assert.equal(job?.[0]?.spec.template.spec.containers[0].image, IMAGE);
    assert.match(summary, /\| render \| ok \| 6 objects from .*overlay and .*overlay\/migrate \|/);
  });

  it('stops at a failed migration with its log, and changes no Deployment', { skip: KUBECTL === null ? NO_KUBECTL : false }, async () => {
    const { r, calls, summary } = await rollout(deploy(fixture('swarm-dev')), { migrate: 'Failed' });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /rollout: FAILED: Job swarm-migrate failed \(BackoffLimitExceeded: Job has reached the specified backoff limit\): no Deployment was changed/);
    assert.equal(applied(calls).length, 2, 'the rest and the Job; no Deployment');
    assert.ok(!verbs(calls).some((v) => v.startsWith('rollout')));
    assert.match(summary, /\| migration \| FAILED \| .*its log: migrate: applying 0007_example\.sql ⏎ migrate: error: relation already exists \|/);
  });

  it('fails when a rollout does not complete, naming the Deployment', { skip: KUBECTL === null ? NO_KUBECTL : false }, async () => {
    const { r, summary } = await rollout(deploy(fixture('swarm-dev')), { migrate: 'Complete', rolloutFails: ['swarm-handlers'] });
    assert.equal(r.code, 1, r.stderr);
    assert.match(summary, /### Deploy of release 42 to swarm-dev: FAILED/);
    assert.match(summary, /\| rollout swarm-api \| ok \|/);
    assert.match(summary, /\| rollout swarm-handlers \| FAILED \| error: deployment "swarm-handlers" exceeded its progress deadline \|/);
  });

  it('refuses what would deploy the wrong thing, before applying anything', { skip: KUBECTL === null ? NO_KUBECTL : false }, async () => {
    const overlay = fixture('swarm-dev');
    for (const [args, code, message] of [
      [deploy(overlay, 'swarm-dev', `docker.io/someone/swarm@${DIGEST}`), 2, /--image must be ghcr\.io\/swarm-hub\/swarm@sha256:DIGEST or ghcr\.io\/swarm-hub\/swarm:TAG/],
      [deploy(overlay, 'swarm-dev', 'ghcr.io/swarm-hub/swarm@sha256:abc'), 2, /--image digest must be sha256: and 64 hex digits/],
      [deploy(join(overlay, 'nowhere')), 2, /--overlay .*nowhere holds no kustomization/],
      [deploy(overlay, 'Swarm_Dev'), 2, /--namespace "Swarm_Dev" is not a Kubernetes namespace name/],
      [['deploy', '--overlay', overlay, '--namespace', 'swarm-dev', '--image', IMAGE], 2, /deploy needs --release/],
      [deploy(fixture('swarm-prod')), 1, /does not render to what a release needs: .*Deployment swarm-api is in namespace swarm-prod, not swarm-dev/],
      [deploy(fixture('swarm-dev', { deployments: ['swarm-api', 'swarm-handlers'] })), 1, /does not render to what a release needs: no Deployment swarm-config/],
      [deploy(fixture('swarm-dev', { apart: true, level: 'debug' })), 1, /ConfigMap swarm-config-env differs between .*overlay and .*overlay\/migrate/],
    ] as const) {
      const { r, calls } = await rollout([...args], { migrate: 'Complete' });
      assert.equal(r.code, code, `${args.join(' ')}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.deepEqual(verbs(calls).filter((v) => v !== 'kustomize'), [], 'nothing reached the cluster');
    }
  });

  for (const [overlay, namespace] of [
    ['deploy/k8s/overlays/dev', 'swarm-dev'],
    ['deploy/k8s/overlays/prod', 'swarm-prod'],
  ] as const) {
    const missing = KUBECTL === null ? NO_KUBECTL : existsSync(join(ROOT, overlay)) ? false : `${overlay} is not in this tree (the Kubernetes manifests of issue 16; the workflow test fails on the missing path)`;
    it(`renders the repository's ${overlay} with the names the workflow relies on`, { skip: missing }, async () => {
      const { r, calls } = await rollout(deploy(overlay, namespace), { migrate: 'Complete' });
      assert.equal(r.code, 0, r.stderr);
      const [, job, deployments] = applied(calls);
      assert.deepEqual(deployments?.map((d) => d.metadata.name), ['swarm-api', 'swarm-config', 'swarm-handlers']);
      assert.deepEqual(job?.map((j) => j.metadata.name), ['swarm-migrate']);
    });
  }
});

describe('scripts/rollout.mjs undo', () => {
  it('undoes only the Deployments that carry the release, says why, and leaves the others', async () => {
    const state: StubState = { migrate: 'Complete', deployments: { 'swarm-api': '42', 'swarm-config': '41', 'swarm-handlers': '42' } };
    const { r, calls, summary } = await rollout(['undo', '--namespace', 'swarm-dev', '--release', '42', '--reason', 'the smoke test failed'], state);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      verbs(calls).filter((v) => v.startsWith('rollout')),
      ['rollout undo deployment/swarm-api', 'rollout status deployment/swarm-api', 'rollout undo deployment/swarm-handlers', 'rollout status deployment/swarm-handlers'],
    );
    assert.match(summary, /### Rollback of release 42 in swarm-dev: done\n\nWhy: the smoke test failed/);
    assert.match(summary, /\| swarm-api \| rolled back \| deployment\.apps\/swarm-api rolled back \|/);
    assert.match(summary, /\| swarm-config \| left alone \| runs release 41, which this one never replaced \|/);
  });

  it('goes on past a Deployment it cannot undo or read, and fails', async () => {
    const state: StubState = { migrate: 'Complete', deployments: { 'swarm-api': '42', 'swarm-handlers': '42' }, undoFails: ['swarm-api'] };
    const { r, calls, summary } = await rollout(['undo', '--namespace', 'swarm-dev', '--release', '42'], state);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(verbs(calls).includes('rollout undo deployment/swarm-handlers'), 'the next Deployment is still rolled back');
    assert.match(summary, /\| swarm-api \| FAILED \| error: no rollout history found/);
    assert.match(summary, /\| swarm-config \| FAILED \| cannot read it: Error from server \(NotFound\)/);
    assert.match(r.stderr, /rollout: FAILED: swarm-api: error: no rollout history found/);
  });
});
