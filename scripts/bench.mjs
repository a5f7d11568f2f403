// `npm run bench`: the send benchmark (not a test). Installs and builds like `npm test`, then runs
// the compiled benchmark, passing its flags through: `npm run bench -- --duration 10 --connections 50`.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

ensureInstalled();
build();

const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'bench', 'send.js'), ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, NO_COLOR: '1' },
});
process.exit(r.status ?? 1);
