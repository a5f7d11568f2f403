#!/usr/bin/env node
// The `swarm` command: runs the CLI bundled into one file by scripts/build.mjs (npm start and npm test
// build it on first run); the bundle loads the server only for the commands that run one.
import { existsSync } from 'node:fs';

const main = new URL('../dist/src/cli/main.bundle.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('swarm: internal: not built yet: run `npm start` or `npm run build` in the swarm checkout first\n');
  process.exit(1);
}
await import(main.href);
