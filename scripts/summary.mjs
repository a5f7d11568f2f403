// What the release scripts (smoke.mjs, rollout.mjs) tell about their run: every line on stderr,
// and, in a GitHub Actions job, the same markdown appended to the job's summary page
// ($GITHUB_STEP_SUMMARY), where the reason for a failed deploy or a rollback is read first.
import { appendFileSync } from 'node:fs';

/** Writes `markdown` to stderr and, when the job has a summary file, appends it there. */
export function report(markdown) {
  process.stderr.write(`${markdown}\n`);
  const file = process.env.GITHUB_STEP_SUMMARY;
  if (file !== undefined && file !== '') appendFileSync(file, `${markdown}\n`);
}

/** A markdown table: header cells, then rows of cells (pipes in cells escaped). */
export function table(header, rows) {
  const line = (cells) => `| ${cells.map((c) => String(c).replaceAll('|', '\\|').replaceAll('\n', ' ')).join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}
