// What a refused coordination request must leave alone: the e2e snapshot (agents, tokens,
// messages, deliveries) plus tasks, reviews, channels and their members, message channels and
// templates, read from the hub's SQLite file (read-only).
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { type DataSnapshot, snapshot } from '../e2e/helpers.js';

export interface CoordinationSnapshot extends DataSnapshot {
  tasks: string[];
  reviews: string[];
  channels: string[];
  channelMembers: string[];
  messageChannels: string[];
  templates: string[];
}

export function coordinationSnapshot(dataDir: string): CoordinationSnapshot {
  const base = snapshot(dataDir);
  const db = new Database(join(dataDir, 'swarm.db'), { readonly: true, fileMustExist: true });
  try {
    const rows = (sql: string): string[] => (db.prepare(sql).all() as Record<string, unknown>[]).map((r) => Object.values(r).map(String).join(' '));
    return {
      ...base,
      tasks: rows('SELECT id, status, assignee, points, claimed_at, done_at, verified_by, note, thread_id FROM tasks ORDER BY seq'),
      reviews: rows('SELECT task_id, round, reviewer, verdict, comment FROM reviews ORDER BY task_id, round, reviewer'),
      channels: rows('SELECT name, auto_join, description FROM channels ORDER BY name'),
      channelMembers: rows('SELECT channel, agent_id FROM channel_members ORDER BY channel, agent_id'),
      messageChannels: rows('SELECT channel, message_seq FROM message_channels ORDER BY channel, message_seq'),
      templates: rows('SELECT name, body, updated_by FROM templates ORDER BY name'),
    };
  } finally {
    db.close();
  }
}
