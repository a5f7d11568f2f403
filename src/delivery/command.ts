// The command deliverer: runs a program of the operator's choosing once per delivery, with the
// delivery's JSON `{agent, attempt, message}` on its stdin. No shell: argv[0] is run with
// argv.slice(1) as they are, so nothing in a message is ever parsed as a command line.
//
// The program runs in its own process group so that a timeout kills everything it started, and with
// a small environment (PATH, HOME, locale, and SWARM_DELIVERY_*): the hub's own environment may
// hold its database URL or admin token, which a delivery script has no business seeing.
import { spawn } from 'node:child_process';
import type { CommandTarget, Delivery, Outcome } from './deliverer.js';
import { clock, deliveryJson, errorCode, failed, succeeded } from './outcome.js';

/** The part of stderr quoted in a failure. */
const STDERR_TAIL = 200;
/** After the program exits, how long its stderr may stay open before the outcome is given. */
const EXIT_GRACE_MS = 200;
const PASSED_ENV = ['PATH', 'HOME', 'USER', 'LOGNAME', 'LANG', 'LC_ALL', 'LC_CTYPE', 'TZ', 'TMPDIR', 'TERM'];

function environment(d: Delivery): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const k of PASSED_ENV) if (process.env[k] !== undefined) env[k] = process.env[k];
  env.SWARM_DELIVERY_AGENT = d.agent;
  env.SWARM_DELIVERY_MESSAGE_ID = d.message.id;
  env.SWARM_DELIVERY_ATTEMPT = String(d.attempt);
  return env;
}

function killGroup(pid: number | undefined): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

export function deliverByCommand(t: CommandTarget, d: Delivery, signal?: AbortSignal): Promise<Outcome> {
  const start = clock();
  const [program, ...args] = t.argv;
  if (program === undefined || program === '') return Promise.resolve(failed(start, 'bad_target', 'the command target has no program', { permanent: true }));
  if (signal?.aborted) return Promise.resolve(failed(start, 'timeout', 'aborted before starting'));
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    let timedOut = false;
    let aborted = false;
    let stderr = '';
    // Called only once the child, the timer and onAbort exist.
    const settle = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      resolve(o);
    };
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(program, args, { stdio: ['pipe', 'ignore', 'pipe'], detached: true, env: environment(d) });
    } catch (e) {
      // A NUL in argv and the like: spawn throws at once, before any timer or listener exists.
      resolve(failed(start, 'bad_target', `cannot run ${JSON.stringify(program)}: ${errorCode(e)}`, { permanent: true }));
      return;
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid);
    }, t.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      killGroup(child.pid);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (s: string) => {
      stderr = (stderr + s).slice(-STDERR_TAIL * 4);
    });
    child.on('error', (e) => {
      const code = errorCode(e);
      if (code === 'ENOENT' || code === 'EACCES') settle(failed(start, 'bad_target', `cannot run ${JSON.stringify(program)}: ${code}`, { permanent: true }));
      else settle(failed(start, 'io', `cannot run ${JSON.stringify(program)}: ${code}`));
    });
    const outcome = (code: number | null, sig: NodeJS.Signals | null): Outcome => {
      const tail = stderr.trim().slice(-STDERR_TAIL);
      if (timedOut) return failed(start, 'timeout', `${program} ran longer than ${t.timeoutMs} ms: killed${tail === '' ? '' : `; stderr: ${tail}`}`);
      if (aborted) return failed(start, 'timeout', `aborted: ${program} killed`);
      if (code === 0) return succeeded(start);
      return failed(start, 'exit_status', `${program} ${code === null ? `killed by ${String(sig)}` : `exited ${code}`}${tail === '' ? '' : `: ${tail}`}`);
    };
    // Settled on 'close' (stderr read to its end), or shortly after 'exit' when something the program
    // left running still holds stderr open: the program's own exit status is the answer.
    child.on('close', (code, sig) => settle(outcome(code, sig)));
    child.on('exit', (code, sig) => {
      clearTimeout(timer);
      setTimeout(() => {
        child.stderr?.destroy();
        settle(outcome(code, sig));
      }, EXIT_GRACE_MS).unref();
    });
    // A program that does not read its stdin gets EPIPE here: that is its business, not a failure.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(deliveryJson(d));
  });
}
