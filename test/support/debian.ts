// Programs a test runs for real (PgBouncer, …) from Debian packages: found on the PATH or in the
// sbin directories, else installed once with apt-get (scripts/debian.mjs, which the throwaway
// PostgreSQL uses too). When that is impossible the test fails saying why: a skipped test would
// pass unnoticed.
import { accessSync, constants, existsSync } from 'node:fs';
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

async function install(pkg: string, why: string, missing: string): Promise<void> {
  // scripts/ is plain JavaScript outside the compiled tree: loaded by URL, typed here.
  const mod = (await import(pathToFileURL(join(ROOT, 'scripts', 'debian.mjs')).href)) as { installDebianPackages(packages: string[], why: string): void };
  try {
    mod.installDebianPackages([pkg], why);
  } catch (e) {
    // The message names `why` and what apt-get said.
    throw new Error(`${(e as Error).message} (${missing} is missing)`, { cause: e });
  }
}

/**
 * Installs Debian's `pkg` when `path` (a file or directory it ships) is missing: for a package
 * whose command another package also provides (ansible's collections beside ansible-core's
 * ansible-playbook, which ansible-lint pulls in).
 */
export async function requirePath(path: string, pkg: string, why: string): Promise<void> {
  if (existsSync(path)) return;
  await install(pkg, why, path);
  if (!existsSync(path)) throw new Error(`${why}: apt-get installed ${pkg}, but ${path} is still missing`);
}

/** The path of `command`, installing Debian's `pkg` when it is missing; throws when it cannot. */
export async function requireCommand(command: string, pkg: string, why: string): Promise<string> {
  const found = which(command);
  if (found !== null) return found;
  await install(pkg, why, `\`${command}\``);
  const installed = which(command);
  if (installed === null) throw new Error(`${why}: apt-get installed ${pkg}, but no \`${command}\` is on the PATH or in /usr/sbin`);
  return installed;
}
