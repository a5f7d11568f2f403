// A stand-in for kubectl in front of a cluster that cannot run here (test/ship/rollout.test.ts):
// `kubectl kustomize` is the real one (REAL_KUBECTL), and the calls that would reach a cluster
// answer from a JSON state file (STUB_STATE) and are appended to a log (STUB_LOG), one JSON line
// each with what came on stdin, so that a test can read what was applied and in which order.
import { spawnSync } from 'node:child_process';
import { appendFileSync, readFileSync, statSync } from 'node:fs';

export interface StubState {
  /** The migration Job's condition, or none yet. */
  migrate: 'Complete' | 'Failed' | 'Pending';
  /** Deployments whose `rollout status` fails. */
  rolloutFails?: string[];
  /** Deployments whose `rollout undo` fails. */
  undoFails?: string[];
  /** The release annotation each Deployment's pod template carries; a missing one is not found. */
  deployments?: Record<string, string>;
}

export interface StubCall {
  args: string[];
  input: string;
  /** The kubeconfig the call would use: its text and file mode, when KUBECONFIG is set. */
  kubeconfig?: { text: string; mode: number };
}

function main(): number {
  const state = JSON.parse(readFileSync(process.env.STUB_STATE ?? '', 'utf8')) as StubState;
  const all = process.argv.slice(2);
  const args = all.filter((a, i) => a !== '--namespace' && all[i - 1] !== '--namespace');
  const input = args.includes('-') ? readFileSync(0, 'utf8') : '';
  const call: StubCall = { args: all, input };
  const kubeconfig = process.env.KUBECONFIG;
  if (kubeconfig !== undefined) call.kubeconfig = { text: readFileSync(kubeconfig, 'utf8'), mode: statSync(kubeconfig).mode & 0o777 };
  appendFileSync(process.env.STUB_LOG ?? '', `${JSON.stringify(call)}\n`);
  const out = (text: string, code = 0): number => {
    (code === 0 ? process.stdout : process.stderr).write(`${text}\n`);
    return code;
  };
  const [verb, what, name] = args;
  if (verb === 'kustomize') {
    const r = spawnSync(process.env.REAL_KUBECTL ?? 'kubectl', args, { encoding: 'utf8' });
    process.stdout.write(r.stdout ?? '');
    process.stderr.write(r.stderr ?? r.error?.message ?? '');
    return r.status ?? 1;
  }
  if (verb === 'apply') return out('applied');
  if (verb === 'delete') return out(`job.batch "${name}" deleted`);
  if (verb === 'logs') return out('migrate: applying 0007_example.sql\nmigrate: error: relation already exists');
  if (verb === 'get' && what === 'job') {
    const conditions = state.migrate === 'Pending' ? [] : [{ type: state.migrate, status: 'True', reason: state.migrate === 'Failed' ? 'BackoffLimitExceeded' : undefined, message: state.migrate === 'Failed' ? 'Job has reached the specified backoff limit' : undefined }];
    return out(JSON.stringify({ kind: 'Job', status: { conditions } }));
  }
  if (verb === 'get' && what === 'deployment') {
    const release = state.deployments?.[name ?? ''];
    if (release === undefined) return out(`Error from server (NotFound): deployments.apps "${name}" not found`, 1);
    return out(JSON.stringify({ kind: 'Deployment', spec: { template: { metadata: { annotations: { 'swarm-hub/release': release } } } } }));
  }
  if (verb === 'rollout') {
    const deployment = (name ?? what ?? '').replace('deployment/', '');
    if (what === 'status') {
      if (state.rolloutFails?.includes(deployment)) return out(`error: deployment "${deployment}" exceeded its progress deadline`, 1);
      return out(`deployment "${deployment}" successfully rolled out`);
    }
    if (what === 'undo') {
      if (state.undoFails?.includes(deployment)) return out(`error: no rollout history found for deployment "${deployment}"`, 1);
      return out(`deployment.apps/${deployment} rolled back`);
    }
  }
  return out(`kubectl stub: unexpected call: ${all.join(' ')}`, 3);
}

process.exitCode = main();
