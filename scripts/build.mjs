// Compiles TypeScript to dist/ and copies the SQL files beside the compiled adapters. SQL files in
// dist/ whose source is gone are removed: a stale migration there would be applied.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.json')], { stdio: 'inherit' });

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

// The CLI in one file (dist/src/cli/main.bundle.js, what bin/swarm.js runs): Node resolves and reads
// one module instead of ~300 (commander, zod, yaml, ours), which is most of a command's start-up
// time (docs/benchmarks.md, "CLI start-up"). What a command loads with `await import()` (the server
// and store drivers for `serve`, `migrate`; the WebSocket client for `watch`; the MCP server) stays
// outside, loaded from dist/ beside it when that command runs, so the bundle sits in the same
// directory as main.js and those relative paths hold. errors.js stays outside too: one HubError
// class for the bundle and the modules it loads later (`instanceof` in main.ts).
const esbuild = await import('esbuild');
const cliDir = join(root, 'dist', 'src', 'cli');
await esbuild.build({
  entryPoints: [join(cliDir, 'main.js')],
  outfile: join(cliDir, 'main.bundle.js'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  minify: true,
  sourcemap: true,
  logLevel: 'warning',
  // Loaded by `swarm mcp` alone (await import()): resolved from node_modules when that command runs.
  external: ['@modelcontextprotocol/sdk', '@modelcontextprotocol/sdk/*'],
  // Packages written as CommonJS (commander) call require() for Node's own modules.
  banner: { js: "import { createRequire as __swarmRequire } from 'node:module'; const require = __swarmRequire(import.meta.url);" },
  plugins: [
    {
      name: 'lazy-stays-outside',
      setup(b) {
        b.onResolve({ filter: /^\./ }, (args) => {
          const abs = join(args.resolveDir, args.path);
          if (args.kind !== 'dynamic-import' && abs !== join(root, 'dist', 'src', 'errors.js')) return undefined;
          // Rewritten relative to the bundle's directory.
          const rel = relative(cliDir, abs);
          return { path: rel.startsWith('.') ? rel : `./${rel}`, external: true };
        });
      },
    },
  ],
});
