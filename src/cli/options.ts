// Option parsers shared by commands: they refuse bad values before anything is sent.
import { readFileSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { HubError } from '../errors.js';

export function intIn(min: number, max: number): (v: string) => number {
  return (v) => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    const n = Number(v);
    if (n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    return n;
  };
}

export function oneOf(values: readonly string[]): (v: string) => string {
  return (v) => {
    if (!values.includes(v)) throw new InvalidArgumentError(`expected one of ${values.join(', ')}.`);
    return v;
  };
}

export function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** `30m`, `2h`, `1d`, `45s` ago, or an ISO 8601 time; returned as ISO. */
export function sinceTime(v: string, now = Date.now()): string {
  const rel = /^(\d+)([smhd])$/.exec(v);
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return new Date(now - Number(rel[1]) * unit).toISOString();
  }
  const t = Date.parse(v);
  if (Number.isNaN(t) || !/^\d{4}-\d{2}-\d{2}/.test(v)) throw new InvalidArgumentError('expected a time like 2026-11-27T09:00:00Z, or an age like 30m, 2h, 1d.');
  return new Date(t).toISOString();
}

export function jsonObject(v: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(v);
  } catch {
    throw new InvalidArgumentError('expected a JSON object, e.g. \'{"pr": 42}\'.');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new InvalidArgumentError('expected a JSON object.');
  return parsed as Record<string, unknown>;
}

/** The message body: the words given, or the file (`-` for stdin). Exactly one of the two. */
export function bodyFrom(words: string[], file: string | undefined): string {
  if (file !== undefined && words.length > 0) throw new HubError('usage', 'give the message as words or with --file, not both');
  if (file !== undefined) {
    try {
      return readFileSync(file === '-' ? 0 : file, 'utf8');
    } catch (e) {
      throw new HubError('usage', `cannot read ${file === '-' ? 'stdin' : file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  const body = words.join(' ');
  if (body.trim() === '') throw new HubError('usage', 'no message: give the text as arguments, or --file PATH (- for stdin)');
  return body;
}
