// token reissue-admin: the admin's token reissued through the store itself, for when it is lost.
// Needs no token and no hub: it opens the store with `swarm serve`'s settings (server/reissue-admin.ts).
import type { Command } from 'commander';
import { cliConfig, type GlobalOptions } from '../context.js';
import { emit, makeOutput } from '../render.js';

interface ReissueOptions {
  data?: string;
  database?: string;
  out?: string;
}

export function registerReissueAdminCommand(token: Command): void {
  token
    .command('reissue-admin')
    .description('lost the admin token? revoke the ones the hub minted and mint a new one, through the store itself (no token, no hub needed)')
    .option('--data <dir>', 'data directory of an embedded store (data.dir, default ./.swarm)')
    .option('--database <url>', 'the hub\'s database URL (store.database; SWARM_DB_SCHEMA as for serve)')
    .option('--out <file>', 'write the token to this file (mode 0600, whole or not at all) instead of printing it')
    .addHelpText(
      'after',
      `
Opens the store as \`swarm serve\` does (--database, SWARM_DATABASE and SWARM_DB_SCHEMA; or the
embedded store in --data), revokes every token the hub minted for \`admin\`, mints a new one and
prints it once (-q: the token alone). Tokens issued for \`admin\` with \`swarm token create\` are
kept. The audit trail records token.revoke and token.create by \`hub\` (detail: via, host, user).
Whoever holds the database credentials, or can write the data directory, owns the hub anyway:
this gives them nothing they did not have.
On PostgreSQL it runs beside the hub processes, which refuse the old token within a second.
An embedded store must be stopped first (exit 14 names the running hub's pid); its admin.token is
rewritten too. A running embedded hub needs none of this: delete <data>/admin.token and restart
it, and it mints a new one.
Exit 9: a malformed --database URL, a schema no hub made (nothing is created), no store in
--data, or --out not writable; 8: PostgreSQL
unreachable or refusing the login; 10: the schema is newer than this swarm; 14: a running hub
holds the data directory. Nothing is changed when it fails.
  kubectl -n swarm-prod exec deploy/swarm-api -c swarm -- swarm token reissue-admin -q`,
    )
    .action(async (o: ReissueOptions, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const { config } = cliConfig(g, {
        flags: { 'data.dir': o.data, 'store.database': o.database },
        flagNames: { 'data.dir': '--data', 'store.database': '--database' },
      });
      // The store drivers load only here, as for serve.
      const { reissueAdmin } = await import('../../server/reissue-admin.js');
      const r = await reissueAdmin(config, { out: o.out });
      if (r.registered) process.stderr.write('swarm: note: no hub had registered the admin in this store; check --database, SWARM_DB_SCHEMA or --data\n');
      const shown = o.out === undefined;
      const doc = { id: r.id, revoked: r.revoked, registered: r.registered, files: r.files, ...(shown ? { token: r.token } : {}) };
      emit(out, doc, () => {
        if (out.quiet) return shown ? r.token : '';
        const lines = [`revoked ${r.revoked.length} admin token${r.revoked.length === 1 ? '' : 's'} the hub had minted; new admin token ${r.id}`];
        if (shown) lines.push(`token (shown once, keep it secret): ${r.token}`);
        for (const f of r.files) lines.push(`written to ${f} (mode 0600)`);
        return lines.join('\n');
      });
    });
}
