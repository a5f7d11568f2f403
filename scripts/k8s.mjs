// `npm run k8s`: renders deploy/k8s/ (the kustomize base and overlays, the rendered manifests of each
// environment, the Prometheus adapter's rule and the Secret's example) from the TypeScript
// definitions in deploy/k8s/src/, and removes generated files that are no longer rendered.
// `npm run k8s -- --check` writes nothing and exits 1 naming each file that differs (CI).
// Anything else on the command line is refused (exit 2) before anything is built or written.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

const USAGE = `usage: npm run k8s [-- --check]
  renders deploy/k8s/ from the definitions in deploy/k8s/src/ and removes generated files no longer rendered
  --check   write nothing; exit 1 naming each file that differs from its definitions (CI)
  --help    this text
exit codes: 0 done (or, with --check, everything matches), 1 files differ or rendering failed, 2 bad usage
`;
let args;
try {
  args = parseArgs({ options: { check: { type: 'boolean' }, help: { type: 'boolean' } }, strict: true, allowPositionals: false }).values;
} catch (e) {
  process.stderr.write(`swarm: k8s: ${e.message} (npm run k8s -- --help)\n`);
  process.exit(2);
}
if (args.help) {
  process.stdout.write(USAGE);
  process.exit(0);
}

ensureInstalled();
build();
const { render, GENERATED_DIRS } = await import(pathToFileURL(join(ROOT, 'dist', 'deploy', 'k8s', 'src', 'render.js')).href);

const check = args.check === true;
const files = render(ROOT);

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? listFiles(p) : [relative(ROOT, p)];
  });
}

const stale = GENERATED_DIRS.flatMap((d) => listFiles(join(ROOT, d))).filter((f) => !files.has(f));
const changed = [...files].filter(([path, text]) => !existsSync(join(ROOT, path)) || readFileSync(join(ROOT, path), 'utf8') !== text).map(([path]) => path);

if (check) {
  for (const f of changed) process.stderr.write(`differs from its definitions: ${f}\n`);
  for (const f of stale) process.stderr.write(`no longer rendered: ${f}\n`);
  if (changed.length + stale.length > 0) {
    process.stderr.write('swarm: run `npm run k8s` and commit the result\n');
    process.exit(1);
  }
  process.stderr.write(`swarm: ${files.size} Kubernetes files match their definitions\n`);
} else {
  for (const path of changed) {
    mkdirSync(dirname(join(ROOT, path)), { recursive: true });
    writeFileSync(join(ROOT, path), files.get(path));
  }
  for (const f of stale) rmSync(join(ROOT, f));
  process.stderr.write(`swarm: ${files.size} Kubernetes files rendered (${changed.length} written, ${stale.length} removed)\n`);
}
