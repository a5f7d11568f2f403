// Docs are part of the code: the tables users read must say what the code does.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CONFIG_KEYS } from '../../src/config/keys.js';
import { ERROR_CODES, EXIT_CODES, exitCodeOf, httpStatusOf } from '../../src/errors.js';
import { readdirSync } from 'node:fs';
import { ROLES } from '../../src/domain/agent.js';
import { OPERATIONS } from '../../src/security/permissions.js';
import { buildProgram } from '../../src/cli/program.js';
import { LEGACY_MAPPING } from '../../src/cli/commands/legacy.js';
import { ROOT } from '../support/paths.js';

const read = (p: string): string => readFileSync(join(ROOT, p), 'utf8');
const between = (text: string, tag: string): string => {
  const m = new RegExp(`<!-- ${tag}:start -->\\n([\\s\\S]*?)<!-- ${tag}:end -->`).exec(text);
  assert.ok(m, `markers ${tag} missing`);
  return m[1] ?? '';
};

describe('docs match the code', () => {
  const readme = read('README.md');

  it('README config reference lists every setting with its environment variable, and nothing else', () => {
    const rows = [...readme.matchAll(/^\| `([a-z]+\.[A-Za-z]+)` \| `(SWARM_[A-Z_]+)` \|/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(CONFIG_KEYS).map(([k, s]) => [k, s.env]));
  });

  it('README config reference states each setting\'s default as the code has it', () => {
    for (const [k, spec] of Object.entries(CONFIG_KEYS)) {
      // The templates' defaults are paragraphs: the README describes them instead.
      if (k.startsWith('templates.')) continue;
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${k}\` |`)) ?? '';
      const shown = row.split(' | ')[2];
      assert.ok(spec.default === '' ? shown === '`""`' || shown === '``' : shown === `\`${String(spec.default)}\``, `${k}: README says ${shown ?? 'nothing'}, the code ${JSON.stringify(spec.default)}`);
    }
  });

  it('README exit-code table matches EXIT_CODES', () => {
    const rows = [...readme.matchAll(/^\| (\d+) \| /gm)].map((m) => Number(m[1]));
    assert.deepEqual(rows, EXIT_CODES.map((r) => r.exit));
  });

  it('README CLI reference names every command', () => {
    for (const c of buildProgram('0').commands) assert.match(readme, new RegExp(`\`swarm ${c.name()}[ \`]`), `swarm ${c.name()} missing from README`);
  });

  it('README table of the original CLI\'s flags equals the one swarm legacy --help prints', () => {
    const cell = (s: string): string => s.replace(/\|/g, '\\|');
    const lines = between(readme, 'legacy').trim().split('\n').slice(2);
    assert.deepEqual(lines, LEGACY_MAPPING.map(([original, today]) => `| \`${cell(original)}\` | ${cell(today)} |`));
  });

  it('docs/security.md permission table equals the one in code', () => {
    const roles = ROLES;
    const expected = Object.entries(OPERATIONS).map(([op, v]) => `| \`${op}\` | ${v.doc} | ${roles.map((r) => ((v.roles as readonly string[]).includes(r) ? 'yes' : '—')).join(' | ')} |`);
    const lines = between(read('docs/security.md'), 'permissions').trim().split('\n').slice(2);
    assert.deepEqual(lines, expected);
  });

  const pages = ['README.md', ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

  it('an exit code named beside an error code in any doc is that code\'s exit code', () => {
    let checked = 0;
    for (const page of pages) {
      const text = read(page).replace(/\s+/g, ' ');
      for (const m of text.matchAll(/`(?:\d{3} )?([a-z_]+)`[^.`]{0,60}?\bexit(?: code)? (\d+)/g)) {
        const code = m[1] as (typeof ERROR_CODES)[number];
        if (!ERROR_CODES.includes(code)) continue;
        checked += 1;
        assert.equal(Number(m[2]), exitCodeOf(code), `${page}: "${m[0]}" but ${code} exits ${exitCodeOf(code)}`);
      }
    }
    assert.ok(checked >= 3, `only ${checked} exit codes found in the docs: is the pattern still right?`);
  });

  it('no doc calls a command or a shipped feature planned', () => {
    const commands = new Set(buildProgram('0').commands.map((c) => c.name()));
    const shipped = ['TLS', 'encryption at rest', 'audit chain', 'rate limit', 'rotation', 'observer', 'MCP', 'SDK', 'web dashboard'];
    for (const page of pages) {
      const blocks = read(page).split(/\n\s*\n/).flatMap((b) => (b.trimStart().startsWith('|') ? b.split('\n') : [b.replace(/\s+/g, ' ')]));
      for (const sentence of blocks.flatMap((b) => b.split(/(?<=[.!?]) /))) {
        if (!/\bplanned\b|not in this version|not yet available/i.test(sentence)) continue;
        for (const m of sentence.matchAll(/`swarm ([a-z-]+)/g)) assert.ok(!commands.has(m[1] ?? ''), `${page}: "${sentence}" but \`swarm ${m[1]}\` exists`);
        for (const f of shipped) assert.ok(!sentence.toLowerCase().includes(f.toLowerCase()), `${page}: "${sentence}" but ${f} ships`);
      }
    }
  });

  it('docs/api.md lists every error code with its HTTP status', () => {
    const lines = between(read('docs/api.md'), 'codes').trim().split('\n').slice(2);
    assert.deepEqual(lines, ERROR_CODES.map((c) => `| \`${c}\` | ${httpStatusOf(c)} |`));
  });
});
