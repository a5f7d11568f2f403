// Compiles TypeScript to dist/ and copies the SQL files beside the compiled adapters. SQL files in
// dist/ whose source is gone are removed: a stale migration there would be applied.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
