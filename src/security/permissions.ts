// Who may do what: one table, the source of truth for every route and CLI command. The security
// issue extends it (observer role, tokens, config, keys); it is not duplicated anywhere else.
import type { Role } from '../domain/agent.js';

export const OPERATIONS = {
  'message.send': { roles: ['agent', 'captain', 'admin'], doc: 'send to agents' },
  'message.broadcast': { roles: ['captain', 'admin'], doc: 'send to `all`' },
  'inbox.own': { roles: ['agent', 'captain', 'admin'], doc: 'list, read, stream, ack and nack one’s own deliveries; see one’s own queue and dead letters' },
  'queue.all': { roles: ['captain', 'admin'], doc: 'see queue stats and dead letters of every agent, and retry them' },
  'history.all': { roles: ['captain', 'admin'], doc: 'read every message, not only one’s own' },
  'agent.list': { roles: ['agent', 'captain', 'admin'], doc: 'see the roster' },
  'agent.register': { roles: ['captain', 'admin'], doc: 'register or onboard agents (captains: role `agent` only)' },
  'agent.remove': { roles: ['captain', 'admin'], doc: 'remove agents (captains: role `agent` only)' },
  'status.own': { roles: ['agent', 'captain', 'admin'], doc: 'set one’s own status and mission' },
  'wrapup.send': { roles: ['captain', 'admin'], doc: 'send the end-of-cycle message' },
  'channel.create': { roles: ['agent', 'captain', 'admin'], doc: 'create channels; join and leave them' },
  'channel.post.any': { roles: ['captain', 'admin'], doc: 'post to a channel without being a member; read any channel’s history' },
  'task.create': { roles: ['captain', 'admin'], doc: 'put tasks (contracts) on the board' },
  'task.manage': { roles: ['captain', 'admin'], doc: 'release another agent’s task; verify a done task without review' },
  'template.manage': { roles: ['captain', 'admin'], doc: 'save message templates; broadcast from a template' },
  'keys.manage': { roles: ['admin'], doc: 'see and rotate the encryption keys' },
  'config.manage': { roles: ['admin'], doc: 'change shared settings and roll them back' },
  'act.as': { roles: ['captain', 'admin'], doc: 'act for another agent (`--as`; captains: for role `agent` only)' },
  'audit.read': { roles: ['admin'], doc: 'list the audit trail and verify its chain' },
} as const satisfies Record<string, { roles: readonly Role[]; doc: string }>;

export type Operation = keyof typeof OPERATIONS;

export function allows(role: Role, op: Operation): boolean {
  return (OPERATIONS[op].roles as readonly Role[]).includes(role);
}

/** Captains manage and speak for plain agents; admins for anyone. */
export function mayManage(actor: Role, target: Role): boolean {
  return actor === 'admin' || (actor === 'captain' && target === 'agent');
}
