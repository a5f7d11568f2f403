// A release of the image to one Kubernetes namespace, and its undo: what the deploy workflow
// (.github/workflows/deploy.yml) runs, and what a person with a kubeconfig can run by hand.
//
//   node scripts/rollout.mjs deploy --overlay deploy/k8s/overlays/dev --namespace swarm-dev \
//     --image ghcr.io/swarm-hub/swarm@sha256:<digest> --release <id>
//   node scripts/rollout.mjs undo --namespace swarm-dev --release <id> [--reason TEXT]
//
// deploy renders the overlay (and its migrate/ kustomization, where the migration Job is kept apart)
// through a kustomization of its own that sets the image (`images:`, what `kustomize edit set image`
// writes, without changing the overlay) and puts the release id on every Deployment's pod
// template (annotation swarm-hub/release); checks the result
// (the three Deployments and the migration Job are there, every Swarm container runs the image,
// everything is in the namespace); applies all but the Deployments and the Job; replaces the
// migration Job and waits for it (a failed migration stops here, with no Deployment changed);
// then applies the Deployments and waits for each rollout.
//
// undo runs `kubectl rollout undo` on each Deployment whose pod template carries the release, and
// waits for it. A Deployment the release never reached is left alone: undoing it would take back
// the release before this one.
//
// kubectl comes from $KUBECTL (default `kubectl` on PATH); the cluster from $SWARM_KUBECONFIG (the
// kubeconfig's text, as CI secrets hold it; written to a private temp file) or else the usual
// $KUBECONFIG. Exit 0: done; 1: failed (why on stderr and in the job summary); 2: usage.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { report, table } from './summary.mjs';

export const IMAGE = 'ghcr.io/swarm-hub/swarm';
export const DEPLOYMENTS = ['swarm-api', 'swarm-config', 'swarm-handlers'];
export const MIGRATION_JOB = 'swarm-migrate';
export const RELEASE_ANNOTATION = 'swarm-hub/release';
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

const USAGE = `usage: node scripts/rollout.mjs deploy --overlay DIR --namespace NS --image ${IMAGE}@sha256:DIGEST|:TAG --release ID [--timeout SECONDS]
       node scripts/rollout.mjs undo --namespace NS --release ID [--reason TEXT] [--timeout SECONDS]`;

class RolloutFailure extends Error {}

function usage(message) {
  process.stderr.write(`rollout: ${message}\n${USAGE}\n`);
  process.exit(2);
}

const [command, ...rest] = process.argv.slice(2);
if (command !== 'deploy' && command !== 'undo') usage(command === undefined ? 'say deploy or undo' : `unknown command ${JSON.stringify(command)}`);
let values;
try {
  ({ values } = parseArgs({
    args: rest,
    options: { overlay: { type: 'string' }, namespace: { type: 'string' }, image: { type: 'string' }, release: { type: 'string' }, reason: { type: 'string' }, timeout: { type: 'string', default: '600' } },
    strict: true,
    allowPositionals: false,
  }));
} catch (e) {
  usage(e.message);
}
const need = (name) => (values[name] === undefined || values[name] === '' ? usage(`${command} needs --${name}`) : values[name]);
const namespace = need('namespace');
const release = need('release');
if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(namespace)) usage(`--namespace ${JSON.stringify(namespace)} is not a Kubernetes namespace name`);
if (!/^[\w.-]{1,63}$/.test(release)) usage(`--release ${JSON.stringify(release)}: letters, digits, . _ - (at most 63)`);
const timeoutS = Number(values.timeout);
if (!Number.isInteger(timeoutS) || timeoutS < 1 || timeoutS > 3600) usage(`--timeout must be whole seconds from 1 to 3600, not ${JSON.stringify(values.timeout)}`);

const work = mkdtempSync(join(tmpdir(), 'swarm-rollout-'));
process.on('exit', () => rmSync(work, { recursive: true, force: true }));
const env = { ...process.env };
if ((process.env.SWARM_KUBECONFIG ?? '') !== '') {
  env.KUBECONFIG = join(work, 'kubeconfig');
  writeFileSync(env.KUBECONFIG, process.env.SWARM_KUBECONFIG, { mode: 0o600 });
}

/** Runs kubectl; answers { ok, out } (stdout, or stderr and stdout when it failed). */
function kubectl(args, { input, seconds = 120 } = {}) {
  const r = spawnSync(process.env.KUBECTL || 'kubectl', args, { env, input, encoding: 'utf8', timeout: seconds * 1000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error !== undefined) return { ok: false, out: `kubectl ${args[0]}: ${r.error.message}` };
  return { ok: r.status === 0, out: r.status === 0 ? r.stdout : `${r.stderr}${r.stdout}`.trim() };
}
const ns = ['--namespace', namespace];
const rows = [];
function must(stage, r) {
  if (!r.ok) {
    rows.push([stage, 'FAILED', r.out.split('\n').slice(-12).join(' ⏎ ')]);
    throw new RolloutFailure(`${stage}: ${r.out.split('\n').slice(-3).join(' ')}`);
  }
  return r.out;
}

/** The overlay rendered with the image and the release set, checked; the objects by stage. */
async function render(overlay, image) {
  const { parseAllDocuments, stringify } = await import('yaml');
  const at = image.startsWith(`${IMAGE}@`) ? image.slice(IMAGE.length + 1) : null;
  const tag = image.startsWith(`${IMAGE}:`) ? image.slice(IMAGE.length + 1) : null;
  if (at === null && tag === null) usage(`--image must be ${IMAGE}@sha256:DIGEST or ${IMAGE}:TAG, not ${JSON.stringify(image)}`);
  if (at !== null && !/^sha256:[0-9a-f]{64}$/.test(at)) usage(`--image digest must be sha256: and 64 hex digits, not ${JSON.stringify(at)}`);
  if (tag !== null && !/^[\w][\w.-]{0,127}$/.test(tag)) usage(`--image tag ${JSON.stringify(tag)} is not an image tag`);
  // One rendering per kustomization: the overlay, and its migrate/ beside it when the migration Job
  // is kept apart (the manifests of deploy/k8s do, so that the Job can be applied on its own).
  const sources = [overlay, join(overlay, 'migrate')].filter((d) => KUSTOMIZATION_FILES.some((f) => existsSync(join(d, f))));
  const byKey = new Map();
  const problems = [];
  for (const [n, source] of sources.entries()) {
    const dir = join(work, `release-${n}`);
    const kustomization = {
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      // kustomize takes no absolute paths: the overlay as seen from here.
      resources: [relative(dir, resolve(source))],
      images: [{ name: IMAGE, ...(at !== null ? { digest: at } : { newTag: tag }) }],
      patches: [
        {
          target: { kind: 'Deployment' },
          patch: stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'any' }, spec: { template: { metadata: { annotations: { [RELEASE_ANNOTATION]: release } } } } }),
        },
      ],
    };
    mkdirSync(dir);
    writeFileSync(join(dir, 'kustomization.yaml'), stringify(kustomization));
    const text = must('render', kubectl(['kustomize', dir]));
    for (const o of parseAllDocuments(text).map((d) => d.toJS())) {
      if (o === null) continue;
      const key = `${o.kind}/${o.metadata?.namespace ?? ''}/${o.metadata?.name}`;
      const seen = byKey.get(key);
      if (seen !== undefined && JSON.stringify(seen) !== JSON.stringify(o)) problems.push(`${o.kind} ${o.metadata?.name} differs between ${sources[0]} and ${source}`);
      byKey.set(key, o);
    }
  }
  const objects = [...byKey.values()];
  const find = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const workloads = [...DEPLOYMENTS.map((n) => ['Deployment', n]), ['Job', MIGRATION_JOB]];
  for (const [kind, name] of workloads) {
    const o = find(kind, name);
    if (o === undefined) {
      problems.push(`no ${kind} ${name}`);
      continue;
    }
    const containers = [...(o.spec?.template?.spec?.initContainers ?? []), ...(o.spec?.template?.spec?.containers ?? [])];
    const swarm = containers.filter((c) => typeof c.image === 'string' && /^[^@:]+/.exec(c.image)?.[0] === IMAGE);
    if (swarm.length === 0) problems.push(`${kind} ${name} runs no ${IMAGE} container`);
    for (const c of swarm) if (c.image !== image) problems.push(`${kind} ${name} container ${c.name} runs ${c.image}, not ${image}`);
  }
  for (const o of objects) {
    const where = o.metadata?.namespace;
    if (where !== undefined && where !== namespace) problems.push(`${o.kind} ${o.metadata.name} is in namespace ${where}, not ${namespace}`);
    if (where === undefined && workloads.some(([k, n]) => k === o.kind && n === o.metadata?.name)) problems.push(`${o.kind} ${o.metadata.name} names no namespace`);
  }
  if (problems.length > 0) {
    rows.push(['render', 'FAILED', problems.join('; ')]);
    throw new RolloutFailure(`${overlay} does not render to what a release needs: ${problems.join('; ')}`);
  }
  rows.push(['render', 'ok', `${objects.length} objects from ${sources.join(' and ')}`]);
  const yaml = (list) => list.map((o) => stringify(o)).join('---\n');
  const isWorkload = (o) => workloads.some(([k, n]) => k === o.kind && n === o.metadata?.name);
  return {
    others: yaml(objects.filter((o) => !isWorkload(o))),
    job: yaml([find('Job', MIGRATION_JOB)]),
    deployments: yaml(DEPLOYMENTS.map((n) => find('Deployment', n))),
  };
}

/** Waits for the migration Job to complete; a Failed condition or the timeout fails with its log. */
async function waitForMigration() {
  const deadline = Date.now() + timeoutS * 1000;
  for (;;) {
    const job = JSON.parse(must('migration', kubectl([...ns, 'get', 'job', MIGRATION_JOB, '-o', 'json'])));
    const conditions = job.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Complete' && c.status === 'True')) return;
    const failed = conditions.find((c) => c.type === 'Failed' && c.status === 'True');
    if (failed !== undefined || Date.now() > deadline) {
      const log = kubectl([...ns, 'logs', `job/${MIGRATION_JOB}`, '--tail=20']).out.trim();
      const why = failed !== undefined ? `Job ${MIGRATION_JOB} failed (${failed.reason ?? ''}: ${failed.message ?? ''})` : `Job ${MIGRATION_JOB} did not complete within ${timeoutS} s`;
      rows.push(['migration', 'FAILED', `${why}; its log: ${log.split('\n').join(' ⏎ ')}`]);
      throw new RolloutFailure(`${why}: no Deployment was changed`);
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

async function deploy() {
  const overlay = need('overlay');
  if (!KUSTOMIZATION_FILES.some((f) => existsSync(join(overlay, f)))) usage(`--overlay ${overlay} holds no kustomization`);
  const image = need('image');
  const parts = await render(overlay, image);
  if (parts.others !== '') {
    must('apply', kubectl(['apply', '-f', '-'], { input: parts.others }));
    rows.push(['apply', 'ok', 'everything but the Deployments and the migration Job']);
  }
  must('migration', kubectl([...ns, 'delete', 'job', MIGRATION_JOB, '--ignore-not-found', '--wait=true', '--timeout=120s'], { seconds: 150 }));
  must('migration', kubectl(['apply', '-f', '-'], { input: parts.job }));
  await waitForMigration();
  rows.push(['migration', 'ok', `Job ${MIGRATION_JOB} completed`]);
  must('rollout', kubectl(['apply', '-f', '-'], { input: parts.deployments }));
  for (const name of DEPLOYMENTS) {
    must(`rollout ${name}`, kubectl([...ns, 'rollout', 'status', `deployment/${name}`, `--timeout=${timeoutS}s`], { seconds: timeoutS + 30 }));
    rows.push([`rollout ${name}`, 'ok', image]);
  }
}

async function undo() {
  let failed = null;
  for (const name of DEPLOYMENTS) {
    const got = kubectl([...ns, 'get', 'deployment', name, '-o', 'json']);
    if (!got.ok) {
      rows.push([name, 'FAILED', `cannot read it: ${got.out}`]);
      failed ??= new RolloutFailure(`cannot read Deployment ${name}: ${got.out}`);
      continue;
    }
    const runs = JSON.parse(got.out).spec?.template?.metadata?.annotations?.[RELEASE_ANNOTATION] ?? '(none)';
    if (runs !== release) {
      rows.push([name, 'left alone', `runs release ${runs}, which this one never replaced`]);
      continue;
    }
    try {
      const said = must(name, kubectl([...ns, 'rollout', 'undo', `deployment/${name}`])).trim();
      must(name, kubectl([...ns, 'rollout', 'status', `deployment/${name}`, `--timeout=${timeoutS}s`], { seconds: timeoutS + 30 }));
      rows.push([name, 'rolled back', said]);
    } catch (e) {
      if (!(e instanceof RolloutFailure)) throw e;
      failed ??= e;
    }
  }
  if (failed !== null) throw failed;
}

let failure = null;
try {
  await (command === 'deploy' ? deploy() : undo());
} catch (e) {
  if (!(e instanceof RolloutFailure)) throw e;
  failure = e;
}
const title =
  command === 'deploy'
    ? `### Deploy of release ${release} to ${namespace}: ${failure === null ? 'done' : 'FAILED'}`
    : `### Rollback of release ${release} in ${namespace}: ${failure === null ? 'done' : 'FAILED'}${values.reason === undefined ? '' : `\n\nWhy: ${values.reason}`}`;
report(`${title}\n\n${table(command === 'deploy' ? ['stage', 'result', 'detail'] : ['deployment', 'result', 'detail'], rows)}\n`);
if (failure !== null) {
  process.stderr.write(`rollout: FAILED: ${failure.message}\n`);
  process.exit(1);
}
