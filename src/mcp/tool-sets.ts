// Which tools a session shows. Every tool a client lists costs its model context on every turn (a
// peer's 34 tools cost ~25,000 tokens), so the default is the 14 an agent needs day to day and
// its tools/list answer is held under 12 KB by a test; `--tools` opens the rest.
import { MESSAGING_TOOLS } from './tools/messaging.js';
import { TASK_TOOLS } from './tools/tasks.js';
import type { ToolDef } from './tool.js';

export const TOOL_SETS = ['default', 'messaging', 'tasks', 'all'] as const;
export type ToolSet = (typeof TOOL_SETS)[number];

const NAMES: Record<Exclude<ToolSet, 'all'>, string[]> = {
  default: ['whoami', 'send', 'reply', 'inbox', 'read', 'ack', 'thread', 'search', 'agents', 'status', 'task_next', 'task_done', 'review', 'report'],
  messaging: ['whoami', 'send', 'reply', 'broadcast', 'inbox', 'read', 'ack', 'nack', 'thread', 'search', 'history', 'agents', 'status', 'report', 'channel_post', 'channel_history'],
  tasks: ['whoami', 'inbox', 'read', 'ack', 'task_list', 'task_next', 'task_claim', 'task_done', 'task_release', 'task_add', 'review', 'leaderboard', 'report'],
};

export const ALL_TOOLS: ToolDef[] = [...MESSAGING_TOOLS, ...TASK_TOOLS];

export function toolsOf(set: ToolSet): ToolDef[] {
  if (set === 'all') return ALL_TOOLS;
  const names = NAMES[set];
  return ALL_TOOLS.filter((t) => names.includes(t.name));
}
