#!/usr/bin/env node
// The swarm CLI entry point: parse argv, run one command, map any error to one stderr line and a
// documented exit code (`swarm help exit-codes`). The only place that exits.
import { readFileSync } from 'node:fs';
import { type Command, CommanderError } from 'commander';
import { exitCodeOf, HubError, isHubError } from '../errors.js';
import { buildProgram } from './program.js';

const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };

function fail(code: string, message: string, exit: number): never {
  process.stderr.write(`swarm: ${code}: ${message.replace(/\s*\n\s*/g, ' ').trim()}\n`);
  process.exit(exit);
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram(pkg.version);
  if (argv.length === 0) {
    program.outputHelp();
    return;
  }
  const quiet = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => undefined, outputError: () => undefined });
    c.commands.forEach(quiet);
  };
  quiet(program);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.exitCode === 0) return;
      fail('usage', `${e.message.replace(/^error: /, '')} (see swarm help)`, 2);
    }
    if (isHubError(e)) fail(e.code, e.message, exitCodeOf(e.code));
    const err = e as Error;
    if (process.env.SWARM_DEBUG) console.error(err);
    fail('internal', `${err.message} (this is a bug; the stack follows with SWARM_DEBUG=1)`, 1);
  }
}

// `swarm inbox | head`: a reader that went away ends the command quietly, as for any Unix tool.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

process.on('unhandledRejection', (e) => {
  if (process.env.SWARM_DEBUG) console.error(e);
  fail('internal', (e as Error).message ?? String(e), 1);
});

main(process.argv.slice(2)).then(
  () => {
    // Let stdout drain; the event loop ends by itself once nothing is pending.
  },
  (e: unknown) => {
    if (process.env.SWARM_DEBUG) console.error(e);
    if (e instanceof HubError) fail(e.code, e.message, exitCodeOf(e.code));
    fail('internal', (e as Error).message, 1);
  },
);
