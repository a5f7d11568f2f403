// `npm start [-- flags]`: installs and builds on first run, then runs `swarm serve` with the
// embedded SQLite store in ./.swarm on http://127.0.0.1:8080 (flags are passed through).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { build, ensureInstalled, ROOT } from './ensure.mjs';

ensureInstalled();
build();
const child = spawn(process.execPath, [join(ROOT, 'dist', 'src', 'cli', 'main.js'), 'serve', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
