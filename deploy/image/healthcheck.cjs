#!/usr/bin/env node
// The image's HEALTHCHECK: GET /healthz on this container's hub, without curl. The port follows
// the role (8080 api/all, 8081 config, 8082 worker) unless SWARM_PORT sets it, and the check
// cannot see the role from here, so it asks each port in turn: only one hub runs in a container.
// SWARM_HEALTHCHECK_URL overrides it all. TLS (SWARM_TLS_CERT): https, without verifying the
// certificate, since it is the container's own. Exit 0 when healthy, 1 otherwise (Docker's rule).
'use strict';
const http = require('node:http');
const https = require('node:https');

const tls = (process.env.SWARM_TLS_CERT ?? '') !== '';
const urls =
  (process.env.SWARM_HEALTHCHECK_URL ?? '') !== ''
    ? [process.env.SWARM_HEALTHCHECK_URL]
    : ((process.env.SWARM_PORT ?? '') !== '' ? [process.env.SWARM_PORT] : ['8080', '8081', '8082']).map((p) => `${tls ? 'https' : 'http'}://127.0.0.1:${p}/healthz`);

function check(url) {
  return new Promise((resolve) => {
    const get = url.startsWith('https:') ? https.get : http.get;
    const req = get(url, { timeout: 2000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode === 200 ? null : `${url}: HTTP ${res.statusCode}`);
    });
    req.on('timeout', () => req.destroy(new Error('no answer in 2 s')));
    req.on('error', (e) => resolve(`${url}: ${e.code ?? e.message}`));
  });
}

(async () => {
  const failures = [];
  for (const url of urls) {
    const failure = await check(url);
    if (failure === null) process.exit(0);
    failures.push(failure);
  }
  process.stderr.write(`unhealthy: ${failures.join('; ')}\n`);
  process.exit(1);
})();
