// keys generate|status|rotate: encryption at rest, and key rotation (a background job on the hub).
import type { Command } from 'commander';
import type { WireKeyRotation } from '../../api/schemas.js';
import { HubError } from '../../errors.js';
import { newKey } from '../../security/crypto.js';
import { clientFor, type GlobalOptions } from '../context.js';
import { bodyFrom } from '../options.js';
import { emit, makeOutput } from '../render.js';

/** How often `keys rotate` reads the rotation's progress while it waits. */
const POLL_MS = 500;

function rotationLine(r: WireKeyRotation): string {
  const progress = `${r.scanned} of ${r.total} messages scanned, ${r.rewritten} re-encrypted${r.skipped > 0 ? `, ${r.skipped} unreadable and left as they are` : ''}`;
  const state = r.state === 'running' ? 'running' : `${r.state} ${r.finished_at ?? ''}`.trim();
  return `key rotation ${r.id} to key ${r.key} (from ${r.previous}): ${state}; ${progress}${r.error === null ? '' : `; ${r.error}`}`;
}

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
    .description('whether the hub encrypts at rest, the key ids in use, and the newest key rotation with its progress (admins)')
    .action(async (_o: unknown, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const r = await clientFor(g).keys();
      emit(out, r, () =>
        [r.enabled ? `encryption at rest: on, writing with key ${r.current ?? ''}; can read ${r.keys.join(', ')}` : 'encryption at rest: off', ...(r.rotation === null ? [] : [rotationLine(r.rotation)])].join('\n'),
      );
    });
  keys
    .command('rotate')
    .description('start re-encrypting every stored message under a new key (or the current one), in the background on the hub; waits for it unless --no-wait (admins)')
    .option('--key-file <path>', 'file holding the new key (- for stdin); without it: re-encrypt what is not yet under the current key')
    .option('--no-wait', 'print the rotation as started and return; `swarm keys status` shows its progress')
    .addHelpText(
      'after',
      [
        '',
        'The hub answers at once and rotates in batches while it serves; one rotation runs at a time',
        '(a second is refused: exit 7, rotation_running). Stopped by a restart, it resumes where it was.',
        'Exit 12 (integrity_failed) if messages could not be read and were left under their old key.',
        '',
        'Before the next restart, put the new key in security.encryptionKey and the old one in',
        'security.previousKeys. With several hub processes, give every process the new key in',
        'security.previousKeys first (docs/security.md).',
      ].join('\n'),
    )
    .action(async (o: { keyFile?: string; wait: boolean }, cmd: Command) => {
      const g = cmd.optsWithGlobals<GlobalOptions>();
      const out = makeOutput(g);
      const key = o.keyFile === undefined ? undefined : bodyFrom([], o.keyFile).trim();
      if (key === '') throw new HubError('usage', 'the key file is empty');
      const client = clientFor(g);
      let r = await client.rotateKey(key);
      if (o.wait) {
        while (r.state === 'running') {
          await new Promise((resolve) => setTimeout(resolve, POLL_MS));
          const now = await client.keyRotation();
          if (now.id !== r.id) throw new HubError('rotation_running', `key rotation ${r.id} was replaced by ${now.id}`);
          r = now;
        }
      }
      emit(out, r, () => rotationLine(r));
      if (r.state === 'failed') throw new HubError('store_unavailable', `key rotation ${r.id} failed: ${r.error ?? 'no reason recorded'}`);
      if (r.state === 'done' && r.skipped > 0) throw new HubError('integrity_failed', `${r.skipped} messages could not be read and stay as they were: ${r.error ?? ''}`);
    });
}
