#!/usr/bin/env node
// The `swarm` command: runs the CLI that scripts/build.mjs bundled into one CommonJS file (npm start
// and npm test build it on first run), compiled with a V8 code cache so that a command costs little
// more than Node's own start-up (docs/benchmarks.md, "CLI start-up"). The cache
// (dist/src/cli/main.bundle.cache) starts with the SHA-256 of the bundle it was made from; when it
// is missing, made from another bundle, or refused by V8 (another Node version or flags), the
// bundle is compiled from source and the cache written again at exit, if the directory is writable.
'use strict';
const { createHash } = require('node:crypto');
const { readFileSync, renameSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { join } = require('node:path');
const { pathToFileURL } = require('node:url');
const vm = require('node:vm');

const dir = join(__dirname, '..', 'dist', 'src', 'cli');
const file = join(dir, 'main.bundle.cjs');
const cacheFile = join(dir, 'main.bundle.cache');

let source;
try {
  source = readFileSync(file, 'utf8');
} catch {
  process.stderr.write('swarm: internal: not built yet: run `npm start` or `npm run build` in the swarm checkout first\n');
  process.exit(1);
}
const hash = createHash('sha256').update(source).digest();
let cachedData;
try {
  const cache = readFileSync(cacheFile);
  if (cache.subarray(0, hash.length).equals(hash)) cachedData = cache.subarray(hash.length);
} catch {
  // No cache yet: compiled from source, written at exit.
}

// The same wrapper as Node's own CommonJS loader, plus the bundle's import(): a script compiled from
// a code cache has no dynamic-import hook of its own, so the bundle's import() calls come here.
const bundleUrl = pathToFileURL(file);
const wrapper = '(function (exports, require, module, __filename, __dirname, _swarmImport) {';
const script = new vm.Script(`${wrapper}${source.replace(/^#!.*/, '')}\n})`, { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected === true) {
  process.once('exit', () => {
    try {
      const temp = `${cacheFile}.${process.pid}`;
      writeFileSync(temp, Buffer.concat([hash, script.createCachedData()]));
      renameSync(temp, cacheFile);
    } catch {
      // A read-only installation: every run compiles from source, as plain `node` would.
    }
  });
}
const swarmImport = (specifier) => import(specifier.startsWith('.') ? new URL(specifier, bundleUrl).href : specifier);
const module_ = { exports: {} };
script.runInThisContext()(module_.exports, createRequire(file), module_, file, dir, swarmImport);
