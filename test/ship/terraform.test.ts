// deploy/terraform/, checked offline: no Terraform or OpenTofu binary can be had here, so every .tf
// file is parsed with @cdktf/hcl2json (HashiCorp's HCL parser, compiled to WebAssembly) and its
// structure is checked: every variable is used and every reference declared; every
// kubernetes_manifest is made of the manifests `npm run k8s` renders (files that exist, for each
// environment the module accepts); the Secret holds exactly the keys the pods read, from sensitive
// variables; outputs name real resources; the example passes what the module requires.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { render } from '../../deploy/k8s/src/render.js';
import { SECRET_KEYS } from '../../deploy/k8s/src/settings.js';
import { ROOT } from '../support/paths.js';
import { loadYaml } from './manifests.js';

// Loaded without its types: its declarations pull the DOM library into the whole compilation.
const hcl = createRequire(import.meta.url)('@cdktf/hcl2json') as { parse(file: string, text: string): Promise<Record<string, any>> };

const TF = join(ROOT, 'deploy', 'terraform');

interface Module {
  dir: string;
  files: string[];
  variable: Record<string, any[]>;
  locals: Record<string, unknown>;
  resource: Record<string, Record<string, any[]>>;
  data: Record<string, Record<string, any[]>>;
  output: Record<string, any[]>;
  module: Record<string, any[]>;
  /** Everything else (terraform, provider). */
  rest: Record<string, unknown>;
}

function tfDirs(dir = TF): string[] {
  const entries = readdirSync(dir);
  const sub = entries.filter((e) => statSync(join(dir, e)).isDirectory()).flatMap((e) => tfDirs(join(dir, e)));
  return entries.some((e) => e.endsWith('.tf')) ? [dir, ...sub] : sub;
}

async function loadModule(dir: string): Promise<Module> {
  const m: Module = { dir, files: [], variable: {}, locals: {}, resource: {}, data: {}, output: {}, module: {}, rest: {} };
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.tf')).sort()) {
    m.files.push(f);
    const json = await hcl.parse(relative(ROOT, join(dir, f)), readFileSync(join(dir, f), 'utf8'));
    for (const [block, body] of Object.entries(json)) {
      if (block === 'locals') for (const l of body as Record<string, string>[]) Object.assign(m.locals, l);
      else if (block === 'resource' || block === 'data') for (const [type, byName] of Object.entries(body as object)) m[block][type] = { ...m[block][type], ...byName };
      else if (block === 'variable' || block === 'output' || block === 'module') Object.assign(m[block], body);
      else m.rest[block] = body;
    }
  }
  return m;
}

/** Every expression string ("…${…}…") under `v`. */
function expressions(v: unknown): string[] {
  if (typeof v === 'string') return v.includes('${') ? [v] : [];
  if (Array.isArray(v)) return v.flatMap(expressions);
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(expressions);
  return [];
}

/** Every string under `v`, expression or not. */
function strings(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'object' && v !== null) return Object.values(v).flatMap(strings);
  return [];
}

/** The references of expressions: var.x, local.x, module.x, data.t.x, and resource t.x (types have an underscore). */
function refs(v: unknown): string[] {
  const out = new Set<string>();
  for (const e of expressions(v)) for (const m of e.matchAll(/(?<![\w.])(var|local|module|data\.\w+|[a-z][a-z0-9]*_[a-z0-9_]+)\.(\w+)/g)) out.add(`${m[1]}.${m[2]}`);
  return [...out];
}

const modules = async (): Promise<Module[]> => Promise.all(tfDirs().map(loadModule));
const root = async (): Promise<Module> => loadModule(TF);

describe('deploy/terraform, checked offline', () => {
  it('every .tf file parses (and a broken one is refused with its position)', async () => {
    const all = await modules();
    assert.ok(all.length >= 2, 'the module and its example');
    assert.ok(all.flatMap((m) => m.files).length >= 8, 'versions, variables, main and outputs of each');
    await assert.rejects(hcl.parse('broken.tf', 'resource "x" "y" {\n  a = \n}\n'), /broken\.tf:2/);
  });

  it('every variable and local is used; every reference is declared', async () => {
    for (const m of await modules()) {
      const where = relative(ROOT, m.dir);
      const { variable, ...rest } = m;
      const used = new Set([...refs(rest), ...Object.values(variable).flatMap((v) => refs(v[0]?.default))]);
      for (const name of Object.keys(variable)) assert.ok(used.has(`var.${name}`), `${where}: variable ${name} is never used`);
      for (const name of Object.keys(m.locals)) assert.ok(used.has(`local.${name}`), `${where}: local ${name} is never used`);
      for (const r of used) {
        const kind = r.slice(0, r.lastIndexOf('.'));
        const name = r.slice(r.lastIndexOf('.') + 1);
        if (kind === 'var') assert.ok(name in variable, `${where}: ${r} is not declared`);
        else if (kind === 'local') assert.ok(name in m.locals, `${where}: ${r} is not declared`);
        else if (kind === 'module') assert.ok(name in m.module, `${where}: ${r} is not declared`);
        else if (kind.startsWith('data.')) assert.ok(m.data[kind.slice(5)]?.[name] !== undefined, `${where}: ${r} is not declared`);
        else assert.ok(m.resource[kind]?.[name] !== undefined, `${where}: ${r} is not declared`);
      }
    }
  });

  it('every kubernetes_manifest is made of the rendered manifests, for each environment', async () => {
    const m = await root();
    const environments = /contains\(\[([^\]]*)\], var\.environment\)/.exec(m.variable.environment?.[0].validation[0].condition)?.[1]?.match(/[a-z]+/g) ?? [];
    assert.deepEqual(environments, ['dev', 'prod']);
    const generated = render(ROOT);
    /** A string template resolved: path.module, locals that are templates, var.environment. */
    const resolveTemplate = (t: string, env: string): string =>
      t.replace(/\$\{([^}]+)\}/g, (_all, e: string) => {
        if (e === 'path.module') return m.dir;
        if (e === 'var.environment') return env;
        const local = /^local\.(\w+)$/.exec(e)?.[1];
        if (local !== undefined && typeof m.locals[local] === 'string') return resolveTemplate(m.locals[local], env);
        throw new Error(`cannot resolve \${${e}}`);
      });
    /** The files a local reads, following the locals it uses. */
    const filesOf = (name: string, env: string, seen = new Set<string>()): string[] => {
      if (seen.has(name)) return [];
      seen.add(name);
      const expr = expressions(m.locals[name]).join('\n');
      const direct = [...expr.matchAll(/file\("([^"]+)"\)/g)].map((x) => relative(ROOT, resolve(resolveTemplate(x[1] as string, env))));
      return [...direct, ...refs(expr).filter((r) => r.startsWith('local.')).flatMap((r) => filesOf(r.slice(6), env, seen))];
    };
    const manifests = Object.entries(m.resource.kubernetes_manifest ?? {});
    assert.ok(manifests.length >= 6, `${manifests.length} kubernetes_manifest resources`);
    for (const env of environments) {
      const read = new Set<string>();
      for (const [name, [body]] of manifests) {
        const locals = refs({ manifest: body.manifest, for_each: body.for_each }).filter((r) => r.startsWith('local.'));
        const files = [...new Set(locals.flatMap((l) => filesOf(l.slice(6), env)))];
        assert.ok(files.length > 0, `kubernetes_manifest.${name} reads no rendered manifest`);
        for (const f of files) {
          assert.ok(generated.has(f), `kubernetes_manifest.${name} reads ${f}, which \`npm run k8s\` does not render`);
          read.add(f);
        }
      }
      assert.deepEqual([...read].sort(), [`deploy/k8s/overlays/${env}/namespace.yaml`, `deploy/k8s/rendered/${env}-migrate.yaml`, `deploy/k8s/rendered/${env}.yaml`]);
      // Kinds the locals pick by name exist in what they read; tier names in validations are Deployments.
      const objects = [...read].flatMap((f) => loadYaml(join(ROOT, f)));
      const kinds = new Set(objects.map((o) => o.kind));
      const named = strings(m.locals).flatMap((e) => [...e.matchAll(/"([A-Z][A-Za-z]+)"|^([A-Z][A-Za-z]+)$/g)].map((x) => (x[1] ?? x[2]) as string));
      assert.ok(named.length >= 5, `kinds named in the locals: ${named.join(', ')}`);
      for (const k of new Set(named)) assert.ok(kinds.has(k), `${k} is no kind of the ${env} manifests`);
      const deployments = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name);
      for (const v of ['replicas', 'resources']) for (const name of m.variable[v]?.[0].validation[0].condition.match(/swarm-[a-z]+/g) ?? []) assert.ok(deployments.includes(name), `var.${v}: ${name}`);
    }
  });

  it('the Secret holds exactly the keys the pods read, each from a sensitive variable', async () => {
    const m = await root();
    const secret = m.resource.kubernetes_secret_v1?.swarm?.[0];
    assert.equal(secret.metadata[0].name, 'swarm-secrets');
    assert.deepEqual(Object.keys(secret.data).sort(), SECRET_KEYS.map((s) => s.key).sort());
    for (const [key, value] of Object.entries(secret.data as Record<string, string>)) {
      const name = /^\$\{var\.(\w+)\}$/.exec(value)?.[1];
      assert.ok(name !== undefined && m.variable[name]?.[0].sensitive === true, `${key} comes from a sensitive variable`);
    }
  });

  it('outputs name real resources; the example passes what the module requires', async () => {
    const [mod, ...examples] = await modules();
    assert.ok(mod !== undefined && mod.dir === TF && examples.length >= 1);
    for (const m of [mod, ...examples]) {
      for (const [name, [o]] of Object.entries(m.output)) {
        const r = refs(o.value);
        assert.ok(r.length > 0, `${relative(ROOT, m.dir)}: output ${name} refers to nothing`);
        for (const x of r.filter((y) => y.startsWith('module.'))) {
          const attr = new RegExp(`${x.replace('.', '\\.')}\\.(\\w+)`).exec(String(o.value))?.[1] ?? '';
          assert.ok(attr in mod.output, `output ${name}: the module has no output ${attr}`);
        }
      }
    }
    for (const ex of examples) {
      for (const [name, [call]] of Object.entries(ex.module)) {
        assert.equal(resolve(ex.dir, call.source), TF, `module ${name} uses deploy/terraform`);
        const required = Object.entries(mod.variable).filter(([, [v]]) => !('default' in v)).map(([n]) => n);
        for (const r of required) assert.ok(r in call, `${relative(ROOT, ex.dir)}: module ${name} lacks ${r}`);
        for (const arg of Object.keys(call).filter((k) => k !== 'source')) assert.ok(arg in mod.variable, `${relative(ROOT, ex.dir)}: ${arg} is no variable of the module`);
      }
    }
  });
});
