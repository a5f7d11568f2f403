// The layering lint rule (eslint-layers.js) against sources written for the test: an upward import
// fails the lint, an allowed one passes, and the tree as it stands passes.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ESLint } from 'eslint';
import { ROOT } from '../support/paths.js';

const eslint = new ESLint({ cwd: ROOT });

async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(ROOT, path) });
  return (result?.messages ?? []).filter((m) => m.ruleId === 'layers/no-upward-import').map((m) => m.message);
}

describe('layering lint rule', () => {
  for (const [path, source, to] of [
    ['src/store/sqlite/x.ts', '../../hub/hub.js', 'hub'],
    ['src/store/x.ts', '../server/app.js', 'server'],
    ['src/hub/x.ts', '../server/serve.js', 'server'],
    ['src/hub/x.ts', '../cli/main.js', 'cli'],
    ['src/domain/x.ts', '../errors.js', 'errors'],
    ['src/domain/x.ts', '../store/store.js', 'store'],
    ['src/client/x.ts', '../hub/hub.js', 'hub'],
    ['src/mcp/x.ts', '../hub/hub.js', 'hub'],
    ['src/mcp/x.ts', '../store/store.js', 'store'],
    ['src/mcp/x.ts', '../server/app.js', 'server'],
    ['src/mcp/x.ts', '../cli/context.js', 'cli'],
  ] as const) {
    it(`refuses ${path} importing ${source}`, async () => {
      const code = `import type { A } from '${source}';\nexport type B = A;\n`;
      const errors = await layerErrors(path, code);
      assert.equal(errors.length, 1, `expected one layering error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0] ?? '', new RegExp(`may not import '${to}'`));
    });
  }

  it('refuses re-exports and dynamic imports that reach up', async () => {
    assert.equal((await layerErrors('src/store/x.ts', "export * from '../hub/hub.js';\n")).length, 1);
    assert.equal((await layerErrors('src/store/x.ts', "export async function f(): Promise<unknown> { return import('../hub/hub.js'); }\n")).length, 1);
  });

  it('allows downward and same-layer imports, and packages', async () => {
    const code = "import type { A } from '../store.js';\nimport type { M } from '../../domain/message.js';\nimport pg from 'pg';\nexport type B = [A, M, typeof pg];\n";
    assert.deepEqual(await layerErrors('src/store/postgres/x.ts', code), []);
    assert.deepEqual(await layerErrors('src/hub/x.ts', "import type { Store } from '../store/store.js';\nexport type S = Store;\n"), []);
  });

  it('the tree as it stands has no upward import', async () => {
    const results = await eslint.lintFiles(['src/**/*.ts']);
    const up = results.flatMap((r) => r.messages.filter((m) => m.ruleId === 'layers/no-upward-import').map((m) => `${r.filePath}:${m.line} ${m.message}`));
    assert.deepEqual(up, []);
  });
});
