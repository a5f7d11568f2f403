// Compiles TypeScript to dist/ and copies the SQL files beside the compiled adapters. SQL files in
// dist/ whose source is gone are removed: a stale migration there would be applied.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });
// The dashboard's browser code (src/dashboard/, DOM types): typechecked on its own, bundled below.
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'src/dashboard/tsconfig.json')], { stdio: 'inherit' });

function copySql(dir) {
  for (const name of readdirSync(join(root, dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, rel)).isDirectory()) copySql(rel);
    else if (name.endsWith('.sql')) cpSync(join(root, rel), join(root, 'dist', rel));
  }
}
function removeStaleSql(dir) {
  if (!existsSync(join(root, 'dist', dir))) return;
  for (const name of readdirSync(join(root, 'dist', dir))) {
    const rel = join(dir, name);
    if (statSync(join(root, 'dist', rel)).isDirectory()) removeStaleSql(rel);
    else if (name.endsWith('.sql') && !existsSync(join(root, rel))) rmSync(join(root, 'dist', rel));
  }
}
removeStaleSql('src');
copySql('src');

// The CLI in one file (dist/src/cli/main.bundle.cjs, what bin/swarm.cjs runs): Node resolves and reads
// one module instead of ~300 (commander, zod, yaml, ours), which is most of a command's start-up
// time (docs/benchmarks.md, "CLI start-up"). What a command loads with `await import()` (the server
// and store drivers for `serve`, `migrate`; the WebSocket client for `watch`; the MCP server) stays
// outside, loaded from dist/ beside it when that command runs. errors.js stays outside too: one
// HubError class for the bundle and the modules it loads later (`instanceof` in main.ts).
//
// CommonJS, not ESM: bin/swarm.cjs compiles it with a V8 code cache (main.bundle.cache, written
// below), which Node 20 offers only to scripts, not to ES modules. A script compiled from a code
// cache loses its dynamic-import hook, so each `import()` the bundle keeps becomes a call of
// `_swarmImport(specifier)`, a function bin/swarm.cjs passes in (it imports relative to the
// bundle); the build fails if any bare `import(` is left.
const esbuild = await import('esbuild');
const cliDir = join(root, 'dist', 'src', 'cli');
const bundle = join(cliDir, 'main.bundle.cjs');
// `import("swarm:` and `_swarmImport("` have the same length: the source map's columns hold.
const LAZY = 'swarm:';
const result = await esbuild.build({
  entryPoints: [join(cliDir, 'main.js')],
  outfile: bundle,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: true,
  sourcemap: true,
  write: false,
  logLevel: 'warning',
  define: { 'import.meta.url': '__swarmBundleUrl' },
  banner: { js: "const __swarmBundleUrl = require('node:url').pathToFileURL(__filename).href;" },
  plugins: [
    {
      name: 'lazy-stays-outside',
      setup(b) {
        // The MCP SDK: loaded by `swarm mcp` alone, resolved from node_modules when that command runs.
        b.onResolve({ filter: /^@modelcontextprotocol\/sdk/ }, (args) => ({ path: `${LAZY}${args.path}`, external: true }));
        b.onResolve({ filter: /^\./ }, (args) => {
          const abs = join(args.resolveDir, args.path);
          const errors = abs === join(root, 'dist', 'src', 'errors.js');
          if (args.kind !== 'dynamic-import' && !errors) return undefined;
          // Rewritten relative to the bundle's directory.
          const rel = relative(cliDir, abs);
          const path = rel.startsWith('.') ? rel : `./${rel}`;
          return { path: errors ? path : `${LAZY}${path}`, external: true };
        });
      },
    },
  ],
});
for (const out of result.outputFiles) {
  if (out.path !== bundle) {
    writeFileSync(out.path, out.contents);
    continue;
  }
  const code = out.text.replaceAll(`import("${LAZY}`, '_swarmImport("');
  const left = code.match(/\bimport\s*\(/g);
  if (left !== null) throw new Error(`${bundle}: ${left.length} import( left that a code-cached script cannot run: load it through a path the lazy-stays-outside plugin rewrites`);
  if (new RegExp(`["']${LAZY}[.@]`).test(code)) throw new Error(`${bundle}: a ${LAZY} specifier outside an import() call`);
  writeFileSync(bundle, code);
}
// The code cache, made by running the CLI once (bin/swarm.cjs writes it when it is missing).
rmSync(join(cliDir, 'main.bundle.cache'), { force: true });
for (const stale of ['main.bundle.js', 'main.bundle.js.map']) rmSync(join(cliDir, stale), { force: true });
execFileSync(process.execPath, [join(root, 'bin', 'swarm.cjs'), '--version'], { stdio: 'ignore' });
if (!existsSync(join(cliDir, 'main.bundle.cache'))) throw new Error('bin/swarm.cjs --version wrote no main.bundle.cache');

// The web dashboard (docs/dashboard.md): one script, its stylesheet and page in dist/dashboard/,
// which the hub serves at / (src/server/routes/dashboard.ts). Everything it runs is in the bundle
// (marked, DOMPurify): the page loads nothing from elsewhere.
const dashDir = join(root, 'dist', 'dashboard');
await esbuild.build({
  entryPoints: [join(root, 'src', 'dashboard', 'main.ts')],
  outfile: join(dashDir, 'app.js'),
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: 'es2022',
  minify: true,
  legalComments: 'external',
  logLevel: 'warning',
});
for (const name of ['index.html', 'style.css']) cpSync(join(root, 'src', 'dashboard', name), join(dashDir, name));
