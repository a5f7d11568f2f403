// Programs a test runs for real (PgBouncer, …) from Debian packages: found on the PATH or in the
// sbin directories, else installed once with apt-get (scripts/debian.mjs, which the throwaway
// PostgreSQL uses too). When that is impossible the test fails saying why: a skipped test would
// pass unnoticed.
import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './paths.js';

const DIRS = [...(process.env.PATH ?? '').split(':').filter((d) => d !== ''), '/usr/sbin', '/sbin', '/usr/local/sbin'];

function which(command: string): string | null {
  for (const dir of DIRS) {
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return null;
}

/** The path of `command`, installing Debian's `pkg` when it is missing; throws when it cannot. */
export async function requireCommand(command: string, pkg: string, why: string): Promise<string> {
  const found = which(command);
  if (found !== null) return found;
  // scripts/ is plain JavaScript outside the compiled tree: loaded by URL, typed here.
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'debian.mjs')).href)) as { installDebianPackages(packages: string[], why: string): void };
  try {
    mod.installDebianPackages([pkg], why);
  } catch (e) {
    // The message names `why` and what apt-get said.
    throw new Error(`${(e as Error).message} (\`${command}\` is missing)`, { cause: e });
  }
  const installed = which(command);
  if (installed === null) throw new Error(`${why}: apt-get installed ${pkg}, but no \`${command}\` is on the PATH or in /usr/sbin`);
  return installed;
}
