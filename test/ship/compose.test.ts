// compose.yaml, the full local stack, checked against the code without running it: its third-party
// images cannot be pulled on this machine (no container registry), so it is validated by Compose
// itself (`docker compose config`, else Debian's docker-compose, installed when missing), by haproxy
// and promtool on the files it mounts, and structurally here: the roles and ports, every SWARM_*
// variable against src/config/keys.ts (and the hub's own config loader), mounts, secrets, the order
// of start, Prometheus's targets and rules, and shutdown timing against the hub's drain and grace.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { CONFIG_KEYS } from '../../src/config/keys.js';
import { loadConfig, type LoadedConfig } from '../../src/config/load.js';
import { ROLE_PORTS, type ServeRole } from '../../src/server/serve.js';
import { requireCommand } from '../support/debian.js';
import { ensureHaproxy } from '../support/haproxy.js';
import { ROOT, SWARM_BIN } from '../support/paths.js';
import { tempDir } from '../support/temp.js';
import {
  COMPOSE_FILE, durationSeconds, envExample, flag, hostPath, hubServices, interpolated, loadCompose, mounts, parseHaproxy, parseIni, type Service,
} from './compose-file.js';

const TEXT = readFileSync(COMPOSE_FILE, 'utf8');
/** Every variable of .env.example filled with a test value (URL-safe, as the file asks). */
const VARS = Object.fromEntries([...envExample().keys()].map((k) => [k, `test${k.toLowerCase().replace(/_/g, '')}`]));
const C = loadCompose(TEXT, VARS);
const HUBS = hubServices(C);
const svc = (name: string): Service => C.services[name] ?? assert.fail(`compose.yaml has no service ${name}`);
const role = (s: Service): ServeRole | 'migrate' => (flag(s.command ?? [], '--migrate-only') === true ? 'migrate' : ((flag(s.command ?? [], '--role') as ServeRole | undefined) ?? 'all'));
/** The hub processes that keep running (not the one-shot migration). */
const RUNNING = HUBS.filter(([, s]) => role(s) !== 'migrate');
const cwd = tempDir('swarm-compose-');
/** What the hub makes of a service's environment: its own loader, so bad values and rules fail here. */
const hubConfig = (s: Service): LoadedConfig => loadConfig({ env: s.environment ?? {}, cwd });
/** The port a hub service listens on, decided the way `swarm serve` does (src/cli/commands/serve.ts). */
function listenPort(s: Service): number {
  const f = flag(s.command ?? [], '--port');
  if (typeof f === 'string') return Number(f);
  const r = role(s);
  return hubConfig(s).sources['server.port'] === 'default' ? ROLE_PORTS[r === 'migrate' ? 'all' : r] : hubConfig(s).config['server.port'];
}
/** Third-party services' listening ports: their images' defaults, which compose.yaml leaves alone. */
const IMAGE_PORTS: Record<string, number> = { 'prom/prometheus': 9090, 'prom/alertmanager': 9093, 'grafana/grafana': 3000 };
function servicePort(name: string): number {
  const s = svc(name);
  if (HUBS.some(([n]) => n === name)) return listenPort(s);
  return IMAGE_PORTS[(s.image ?? '').split(':')[0] as string] ?? assert.fail(`no known port for ${name} (${s.image})`);
}
const byImage = (prefix: string): [string, Service] => Object.entries(C.services).find(([, s]) => (s.image ?? '').startsWith(prefix)) ?? assert.fail(`no service runs ${prefix}`);
const git = (...args: string[]): string => spawnSync('git', args, { cwd: ROOT, encoding: 'utf8' }).stdout;
/** The host path a container path leads to is the repository's file `rel`. */
function assertSameFile(host: string, rel: string, what: string): void {
  assert.ok(existsSync(host), `${what}: ${host} does not exist`);
  assert.equal(realpathSync(host), realpathSync(join(ROOT, rel)), `${what}: ${host} is not ${rel}`);
}

describe('compose.yaml (validated structurally: its images cannot be pulled here)', () => {
  it('Compose itself accepts the file, and refuses it with a clear message without the password', async () => {
    const v2 = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' }).status === 0;
    const tool = v2 ? ['docker', 'compose'] : [await requireCommand('docker-compose', 'docker-compose', 'compose.yaml is validated with `docker-compose config`')];
    const envFile = join(cwd, 'empty.env');
    writeFileSync(envFile, '');
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !envExample().has(k)));
    const run = (vars: Record<string, string>): { code: number | null; out: string } => {
      const r = spawnSync(tool[0] as string, [...tool.slice(1), '--env-file', envFile, '-f', COMPOSE_FILE, 'config', '-q'], { cwd: ROOT, env: { ...base, ...vars }, encoding: 'utf8', timeout: 60_000 });
      return { code: r.status, out: `${r.stdout}${r.stderr}${r.error?.message ?? ''}` };
    };
    const ok = run(VARS);
    assert.equal(ok.code, 0, `${tool.join(' ')} config:\n${ok.out}`);
    const missing = run({ ...VARS, POSTGRES_PASSWORD: '' });
    assert.notEqual(missing.code, 0);
    assert.match(missing.out, /POSTGRES_PASSWORD/);
  });

  it('runs the original topology: 3 api on 8080, 2 config on 8081, 1 worker on 8082, and a one-shot migration', () => {
    const count = (r: string): number => HUBS.filter(([, s]) => role(s) === r).length;
    assert.deepEqual({ api: count('api'), config: count('config'), worker: count('worker'), migrate: count('migrate'), all: count('all') }, { api: 3, config: 2, worker: 1, migrate: 1, all: 0 });
    for (const [name, s] of HUBS) {
      assert.equal(typeof s.build === 'string' ? s.build : s.build?.context, '.', `${name}: build .`);
      assert.ok(existsSync(join(ROOT, 'Dockerfile')), `${name} builds ./Dockerfile, which is missing`);
      assert.equal(s.command?.[0], 'serve', `${name}: runs swarm serve`);
    }
    for (const [name, s] of RUNNING) {
      const want = { api: 8080, config: 8081, worker: 8082 }[role(s) as 'api'];
      assert.equal(listenPort(s), want, `${name} listens on ${want}`);
      assert.equal(flag(s.command ?? [], '--host'), '0.0.0.0', `${name}: reachable from the other containers`);
      assert.match(JSON.stringify(s.healthcheck?.test ?? ''), new RegExp(`127\\.0\\.0\\.1:${want}/readyz`), `${name}: healthcheck on its own port's /readyz`);
    }
  });

  it('passes `swarm serve` only flags it takes', () => {
    const help = spawnSync(process.execPath, [SWARM_BIN, 'serve', '--help'], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(help.status, 0, help.stderr);
    for (const [name, s] of HUBS) {
      for (const arg of (s.command ?? []).filter((a) => a.startsWith('--'))) {
        const f = arg.split('=')[0] as string;
        assert.match(help.stdout, new RegExp(`(^|[\\s,])${f}([\\s,=]|$)`, 'm'), `${name}: swarm serve has no ${f}`);
      }
    }
  });

  it('haproxy balances the api and the config processes on /readyz, publishes them, and accepts its config', async () => {
    const [name, lb] = byImage('haproxy:');
    const cfg = hostPath(lb, '/usr/local/etc/haproxy/haproxy.cfg') ?? assert.fail(`${name} does not mount a haproxy.cfg`);
    const h = parseHaproxy(readFileSync(cfg, 'utf8'));
    const published = (lb.ports ?? []).map((p) => Number(p.split(':').pop()));
    for (const [r, port] of [['api', 8080], ['config', 8081]] as const) {
      const fe = [...h.frontends.values()].find((f) => f.port === port) ?? assert.fail(`no haproxy frontend on ${port}`);
      const be = h.backends.get(fe.backend) ?? assert.fail(`no backend ${fe.backend}`);
      const want = RUNNING.filter(([, s]) => role(s) === r).map(([n, s]) => `${n}:${listenPort(s)}`).sort();
      assert.deepEqual(be.servers.map((x) => `${x.host}:${x.port}`).sort(), want, `backend ${fe.backend}: every ${r} service at its port`);
      assert.equal(be.checkPath, '/readyz', `backend ${fe.backend} checks /readyz`);
      assert.ok(published.includes(port), `${name} publishes ${port}`);
    }
    for (const p of published) assert.ok([...h.frontends.values()].some((f) => f.port === p), `${name} publishes ${p}, where haproxy binds nothing`);
    const check = spawnSync(await ensureHaproxy(), ['-c', '-f', cfg], { encoding: 'utf8' });
    assert.equal(check.status, 0, `haproxy -c:\n${check.stdout}${check.stderr}`);
  });

  it('sets only SWARM_* variables the hub reads (src/config/keys.ts), with values its config loader accepts', () => {
    const known = new Set<string>(Object.values(CONFIG_KEYS).map((k) => k.env));
    assert.ok(known.size > 40 && known.has('SWARM_DATABASE'), 'the keys module lists the hub’s variables');
    for (const [name, s] of Object.entries(C.services)) {
      for (const v of Object.keys(s.environment ?? {}).filter((k) => k.startsWith('SWARM_'))) assert.ok(known.has(v), `${name}: the hub reads no ${v}`);
    }
    for (const [name, s] of HUBS) assert.doesNotThrow(() => hubConfig(s), `${name}: the hub refuses its settings`);
  });

  it('puts PgBouncer in transaction mode between the pools and PostgreSQL 15; sessions go to PostgreSQL', () => {
    const [pgName, pg] = byImage('postgres:');
    assert.match(pg.image ?? '', /^postgres:15\b/);
    assert.ok(mounts(pg).some((m) => m.volume !== null && m.target === '/var/lib/postgresql/data'), 'PostgreSQL keeps its data in a named volume');
    const [bName, bouncer] = byImage('edoburu/pgbouncer:');
    const iniPath = (bouncer.entrypoint ?? bouncer.command ?? []).join(' ').match(/pgbouncer (\S+\.ini)/)?.[1] ?? assert.fail(`${bName}: no pgbouncer <ini> in its command`);
    const ini = parseIni(readFileSync(hostPath(bouncer, iniPath) ?? assert.fail(`${bName} does not mount ${iniPath}`), 'utf8'));
    const conf = ini.get('pgbouncer') ?? assert.fail('pgbouncer.ini: no [pgbouncer]');
    assert.equal(conf.get('pool_mode'), 'transaction');
    assert.ok((bouncer.entrypoint ?? []).join(' ').includes(`> ${conf.get('auth_file')}`), `${bName} writes its auth file (${conf.get('auth_file')}) at start`);
    for (const [db, target] of ini.get('databases') ?? []) assert.match(target, new RegExp(`host=${pgName} port=5432\\b`), `pgbouncer.ini: ${db} points at ${pgName}`);
    for (const [name, s] of RUNNING) {
      const { config } = hubConfig(s);
      const pool = new URL(config['store.database']);
      assert.equal(`${pool.hostname}:${pool.port}`, `${bName}:${conf.get('listen_port')}`, `${name}: SWARM_DATABASE at the bouncer`);
      assert.ok(ini.get('databases')?.has(pool.pathname.slice(1)), `${name}: database ${pool.pathname} is one pgbouncer.ini serves`);
      assert.equal(config['store.prepare'], false, `${name}: SWARM_DB_PREPARE=false behind a transaction-mode bouncer`);
      const session = new URL(config['store.sessionDatabase']);
      assert.equal(`${session.hostname}:${session.port}`, `${pgName}:5432`, `${name}: SWARM_SESSION_DATABASE at PostgreSQL`);
    }
  });

  it('mounts only paths of the repository and commits no secret', () => {
    for (const [name, s] of Object.entries(C.services)) {
      for (const m of mounts(s)) {
        if (m.host !== null) assert.ok(existsSync(m.host), `${name}: mounts ${m.host}, which does not exist`);
        else assert.ok(Object.hasOwn(C.volumes ?? {}, m.volume as string), `${name}: volume ${m.volume} is not declared`);
      }
    }
    for (const [secret, { file }] of Object.entries(C.secrets ?? {})) {
      assert.ok(file !== undefined, `secret ${secret}: from a file`);
      assert.equal(spawnSync('git', ['check-ignore', '-q', file], { cwd: ROOT }).status, 0, `secret ${secret}: ${file} must be ignored by git`);
      assert.equal(git('ls-files', file), '', `secret ${secret}: ${file} is committed`);
    }
    assert.equal(spawnSync('git', ['check-ignore', '-q', '.env'], { cwd: ROOT }).status, 0, '.env must be ignored by git');
    const example = envExample();
    assert.deepEqual([...interpolated(TEXT)].sort(), [...example.keys()].sort(), 'the variables compose.yaml reads are the ones .env.example lists');
    for (const [k, v] of example) assert.equal(v, '', `.env.example: ${k} has a value; a committed password is no secret`);
  });

  it('starts services after what they need: targets exist, no cycle, conditions the targets can meet', () => {
    const edges = (n: string): string[] => Object.keys(svc(n).depends_on ?? {});
    for (const [name, s] of Object.entries(C.services)) {
      for (const [target, { condition }] of Object.entries(s.depends_on ?? {})) {
        const t = svc(target);
        if (condition === 'service_healthy') assert.ok(t.healthcheck, `${name} waits for ${target} to be healthy, which has no healthcheck`);
        else if (condition === 'service_completed_successfully') assert.equal(t.restart, 'no', `${name} waits for ${target} to complete, which restarts`);
        else assert.equal(condition, 'service_started', `${name} -> ${target}: condition`);
      }
    }
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (n: string, path: string[]): void => {
      if (state.get(n) === 'done') return;
      assert.notEqual(state.get(n), 'visiting', `depends_on cycle: ${[...path, n].join(' -> ')}`);
      state.set(n, 'visiting');
      for (const t of edges(n)) visit(t, [...path, n]);
      state.set(n, 'done');
    };
    for (const n of Object.keys(C.services)) visit(n, []);
    const [migrate] = HUBS.find(([, s]) => role(s) === 'migrate') ?? assert.fail('no migration service');
    for (const [name, s] of RUNNING) assert.equal(s.depends_on?.[migrate]?.condition, 'service_completed_successfully', `${name} starts after ${migrate} succeeded`);
  });

  it('declares every secret a service reads', () => {
    for (const [name, s] of Object.entries(C.services)) {
      const declared = new Set((s.secrets ?? []).map((x) => (typeof x === 'string' ? x : x.source)));
      for (const d of declared) assert.ok(Object.hasOwn(C.secrets ?? {}, d), `${name}: secret ${d} is not declared at the top level`);
      for (const v of Object.values(s.environment ?? {})) {
        for (const m of String(v).matchAll(/\/run\/secrets\/([\w.-]+)/g)) assert.ok(declared.has(m[1] as string), `${name} reads /run/secrets/${m[1]} without declaring the secret`);
      }
    }
    for (const [name, s] of HUBS) assert.match(hubConfig(s).config['security.encryptionKey'], /^file:\/run\/secrets\//, `${name}: the encryption key from a secret file`);
  });

  it('has Prometheus scrape every hub process by service name and port, with the shared jobs and rules', async () => {
    const [name, prom] = byImage('prom/prometheus:');
    const file = flag(prom.command ?? [], '--config.file');
    assert.equal(typeof file, 'string', `${name}: --config.file`);
    const host = hostPath(prom, file as string) ?? assert.fail(`${name}: ${String(file)} is not mounted`);
    type Scrape = { job_name: string; static_configs: { targets: string[]; labels?: Record<string, string> }[] };
    type Prom = { rule_files: string[]; scrape_configs: Scrape[]; alerting: { alertmanagers: { static_configs: { targets: string[] }[] }[] } };
    const conf = parse(readFileSync(host, 'utf8')) as Prom;
    const shared = parse(readFileSync(join(ROOT, 'deploy', 'prometheus', 'prometheus.yml'), 'utf8')) as Prom;
    const jobs = (p: Prom): string[] => p.scrape_configs.map((s) => `${s.job_name} ${JSON.stringify(s.static_configs.map((c) => c.labels ?? {}))}`);
    assert.deepEqual(jobs(conf), jobs(shared), 'the same jobs and labels as deploy/prometheus/prometheus.yml: the rules and dashboards select on them');
    const scraped = conf.scrape_configs.flatMap((s) => s.static_configs.flatMap((c) => c.targets));
    const alerting = conf.alerting.alertmanagers.flatMap((a) => a.static_configs.flatMap((c) => c.targets));
    for (const t of [...scraped, ...alerting]) {
      const [h, p] = t.split(':');
      assert.ok(Object.hasOwn(C.services, h as string), `${name} targets ${t}: no service ${h}`);
      assert.equal(Number(p), servicePort(h as string), `${name} targets ${t}: ${h} listens on ${servicePort(h as string)}`);
    }
    assert.deepEqual(scraped.map((t) => t.split(':')[0]).sort(), RUNNING.map(([n]) => n).sort(), 'every hub process scraped once');
    assert.ok(alerting.every((t) => (svc(t.split(':')[0] as string).image ?? '').startsWith('prom/alertmanager:')), 'alerts go to the Alertmanager service');
    for (const r of conf.rule_files) {
      const ruleHost = hostPath(prom, posix.join(posix.dirname(file as string), r)) ?? assert.fail(`${name}: rule file ${r} is not mounted`);
      assertSameFile(ruleHost, 'deploy/prometheus/rules.yml', `${name} loads the shared rules file`);
    }
    assert.ok(conf.rule_files.length > 0, `${name} loads rules`);
    const promtool = await requireCommand('promtool', 'prometheus', 'the compose Prometheus config is checked with promtool');
    const r = spawnSync(promtool, ['check', 'config', host], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, `promtool check config ${host}:\n${r.stdout}${r.stderr}`);
  });

  it('gives Grafana and Alertmanager the files of deploy/ at the paths those files name', () => {
    const [gName, grafana] = byImage('grafana/grafana:');
    const provisioning = hostPath(grafana, '/etc/grafana/provisioning') ?? assert.fail(`${gName} does not mount its provisioning`);
    assertSameFile(provisioning, 'deploy/grafana/provisioning', `${gName}'s provisioning`);
    type Providers = { providers: { options: { path: string } }[] };
    for (const p of (parse(readFileSync(join(provisioning, 'dashboards', 'swarm.yml'), 'utf8')) as Providers).providers) {
      const dir = hostPath(grafana, p.options.path) ?? assert.fail(`${gName}: ${p.options.path} (the dashboards provider's path) is not mounted`);
      assertSameFile(dir, 'deploy/grafana/dashboards', `${gName}'s dashboards (provider path ${p.options.path})`);
    }
    type Sources = { datasources: { url: string }[] };
    for (const d of (parse(readFileSync(join(provisioning, 'datasources', 'prometheus.yml'), 'utf8')) as Sources).datasources) {
      const u = new URL(d.url);
      assert.equal(Number(u.port), servicePort(u.hostname), `data source ${d.url}: a service at its port`);
    }
    const [aName, am] = byImage('prom/alertmanager:');
    const amFile = flag(am.command ?? [], '--config.file');
    const amHost = hostPath(am, String(amFile)) ?? assert.fail(`${aName}: ${String(amFile)} is not mounted`);
    assertSameFile(amHost, 'deploy/alertmanager/alertmanager.yml', `${aName}'s config`);
  });

  it('waits longer than the hub’s grace on stop, and drains longer than haproxy takes to mark a process down', () => {
    const [, lb] = byImage('haproxy:');
    const h = parseHaproxy(readFileSync(hostPath(lb, '/usr/local/etc/haproxy/haproxy.cfg') as string, 'utf8'));
    assert.ok(h.markDownSeconds > 0, 'haproxy.cfg: default-server inter … fall …');
    for (const [name, s] of RUNNING) {
      const { config } = hubConfig(s);
      const stop = durationSeconds(s.stop_grace_period ?? '10s');
      assert.ok(stop > config['shutdown.graceSeconds'], `${name}: stop_grace_period ${stop} s must exceed the hub's grace (${config['shutdown.graceSeconds']} s), or Docker kills it mid-shutdown`);
      if (role(s) !== 'worker') {
        assert.ok(config['shutdown.drainSeconds'] > h.markDownSeconds, `${name}: drain ${config['shutdown.drainSeconds']} s must exceed haproxy's mark-down (${h.markDownSeconds} s)`);
      }
    }
  });

  it('checks the health of every long-running service and restarts it; the migration runs once', () => {
    for (const [name, s] of Object.entries(C.services)) {
      if (role(s) === 'migrate' && HUBS.some(([n]) => n === name)) {
        assert.equal(s.restart, 'no', `${name}: a one-shot`);
        continue;
      }
      assert.ok(s.healthcheck, `${name}: healthcheck`);
      assert.ok(['always', 'unless-stopped'].includes(s.restart ?? ''), `${name}: restart policy (${s.restart})`);
    }
  });
});
