// token create|list|revoke|rotate (admins), and reissue-admin (through the store, for a lost admin
// token). The secret is printed once, by create, rotate and reissue-admin.
import { type Command, InvalidArgumentError } from 'commander';
import { AGENT_ID_PATTERN } from '../../domain/agent.js';
import { OPERATION_NAMES } from '../../security/permissions.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { collect, oneOf } from '../options.js';
import { ago, emit, makeOutput, table } from '../render.js';
import { registerReissueAdminCommand } from './reissue-admin.js';
import type { WireToken } from '../../api/schemas.js';

/** `45s`, `30m`, `12h`, `30d`, `8w` as seconds. */
export function durationSeconds(v: string): number {
  const m = /^(\d+)([smhdw])$/.exec(v);
  if (m === null || Number(m[1]) === 0) throw new InvalidArgumentError('expected a duration like 45s, 30m, 12h, 30d or 8w.');
  return Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400, w: 7 * 86400 }[m[2] as 's' | 'm' | 'h' | 'd' | 'w'];
}

function agentId(v: string): string {
  if (!AGENT_ID_PATTERN.test(v)) throw new InvalidArgumentError('expected an agent id.');
  return v;
}

function tokensTable(tokens: WireToken[]): string {
  return table(
    ['ID', 'AGENT', 'LABEL', 'CREATED', 'EXPIRES', 'SCOPES', 'LAST USED'],
    tokens.map((t) => [
      t.id,
      t.agent,
      t.label,
      ago(t.created_at),
      t.expires_at === null ? 'never' : t.expired ? `expired ${t.expires_at}` : t.expires_at,
      t.scopes === null ? 'all of the role' : t.scopes.join(','),
      t.last_used_at === null ? 'never' : ago(t.last_used_at),
    ]),
  );
}

export function registerTokenCommands(program: Command): void {
  const token = program.command('token').description('bearer tokens (admins): create with expiry and scopes, list, revoke, rotate; reissue-admin for a lost admin token');
  token
    .command('create')
    .description('issue a token for an agent and print it (shown once)')
    .argument('<agent>', 'agent id', agentId)
    .option('--expires <duration>', 'lifetime: 45s, 30m, 12h, 30d, 8w (default: never expires)', durationSeconds)
    .option('--scope <operation>', `limit the token to an operation (repeatable): ${OPERATION_NAMES.join(', ')}`, (v: string, prev: string[] = []) => collect(oneOf(OPERATION_NAMES)(v), prev))
    .option('--label <text>', 'what the token is for')
    .action(async (agent: string, o: { expires?: number; scope?: string[]; label?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).createToken({ agent, expires_in_seconds: o.expires, scopes: o.scope, label: o.label });
      emit(out, r, () =>
        out.quiet
          ? r.token
          : `token ${r.info.id} for ${r.info.agent}${r.info.expires_at === null ? '' : `, expires ${r.info.expires_at}`}${r.info.scopes === null ? '' : `, scopes ${r.info.scopes.join(',')}`}\ntoken (shown once, keep it secret): ${r.token}`,
      );
    });
  token
    .command('list', { isDefault: true })
    .description('live tokens, without their secrets')
    .option('--agent <id>', 'only this agent’s tokens', agentId)
    .action(async (o: { agent?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).tokens(o.agent);
      emit(out, r, () => (r.tokens.length === 0 ? 'no tokens' : tokensTable(r.tokens)));
    });
  token
    .command('revoke')
    .description('revoke a token: calls with it fail at once and its open streams end')
    .argument('<id>', 'token id (see `swarm token list`)')
    .action(async (id: string, _o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).revokeToken(id);
      emit(out, r, () => (out.quiet ? '' : `revoked ${r.revoked.id} (${r.revoked.agent})`));
    });
  token
    .command('rotate')
    .description('issue a replacement (same agent, label and scopes) and revoke the token; prints the new one once')
    .argument('<id>', 'token id')
    .option('--expires <duration>', 'lifetime of the new token (default: as long as the old one was given)', durationSeconds)
    .action(async (id: string, o: { expires?: number }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).rotateToken(id, o.expires);
      emit(out, r, () => (out.quiet ? r.token : `revoked ${r.revoked}; new token ${r.info.id} for ${r.info.agent}\ntoken (shown once, keep it secret): ${r.token}`));
    });
  registerReissueAdminCommand(token);
}
