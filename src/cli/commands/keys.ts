// keys generate|status|rotate: encryption at rest.
import type { Command } from 'commander';
import { HubError } from '../../errors.js';
import { newKey } from '../../security/crypto.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { bodyFrom } from '../options.js';
import { emit, makeOutput } from '../render.js';

export function registerKeyCommands(program: Command): void {
  const keys = program.command('keys').description('encryption at rest: message subjects, bodies and metadata under AES-256-GCM');
  keys
    .command('generate')
    .description('print a new random key (base64 of 32 bytes) for security.encryptionKey; keep it secret')
    .action((_o: unknown, cmd: Command) => {
      const out = makeOutput(cmd.optsWithGlobals<GlobalOptions>());
      const key = newKey();
      emit(out, { key }, () => key);
    });
  keys
    .command('status', { isDefault: true })
    .description('whether the hub encrypts at rest, and the key ids in use (admins)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).keys();
      emit(out, r, () => (r.enabled ? `encryption at rest: on, writing with key ${r.current ?? ''}; can read ${r.keys.join(', ')}` : 'encryption at rest: off'));
    });
  keys
    .command('rotate')
    .description('switch the hub to a new key and re-encrypt every stored message under it, while it serves (admins)')
    .option('--key-file <path>', 'file holding the new key (- for stdin); without it: finish re-encrypting under the current key')
    .addHelpText(
      'after',
      '\nAfter rotating, put the new key in security.encryptionKey and the old one in security.previousKeys\nbefore the next restart. With several hub processes, give every process the new key in\nsecurity.previousKeys first (docs/security.md).',
    )
    .action(async (o: { keyFile?: string }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const key = o.keyFile === undefined ? undefined : bodyFrom([], o.keyFile).trim();
      if (key === '') throw new HubError('usage', 'the key file is empty');
      const r = await clientFor(g).rotateKey(key);
      emit(out, r, () => `now writing with key ${r.key} (was ${r.previous}); re-encrypted ${r.rewritten} of ${r.scanned} messages`);
    });
}
