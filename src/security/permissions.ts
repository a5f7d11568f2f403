// Who may do what: one table, the source of truth for every route, stream and CLI command
// (docs/security.md renders it; test/security/permissions.test.ts checks it cell by cell over
// HTTP and WebSocket). Every hub operation calls authorize() with one of these operations; a token
// with scopes is further limited to the operations it names.
import type { Role } from '../domain/agent.js';

export const OPERATIONS = {
  'identity.own': { roles: ['observer', 'agent', 'captain', 'admin'], doc: 'see who one is (`whoami`) and send heartbeats; allowed whatever a token’s scopes' },
  'agent.list': { roles: ['observer', 'agent', 'captain', 'admin'], doc: 'see the roster, channels and their members, the task board, the leaderboard, templates and shared settings' },
  'queue.stats': { roles: ['observer', 'captain', 'admin'], doc: 'see the queue numbers (depth, in flight, dead) of every agent' },
  'message.send': { roles: ['agent', 'captain', 'admin'], doc: 'send to agents and channels; post reports' },
  'message.broadcast': { roles: ['captain', 'admin'], doc: 'send to `all`' },
  'inbox.own': { roles: ['agent', 'captain', 'admin'], doc: 'list, read, stream, ack and nack one’s own deliveries; see one’s own queue and dead letters' },
  'history.own': { roles: ['agent', 'captain', 'admin'], doc: 'read the messages one sent or received, their threads, reports and one’s channels’ history' },
  'queue.all': { roles: ['captain', 'admin'], doc: 'see the dead letters of every agent, and retry them' },
  'history.all': { roles: ['captain', 'admin'], doc: 'read every message, not only one’s own' },
  'agent.register': { roles: ['captain', 'admin'], doc: 'register or onboard agents (captains: role `agent` only)' },
  'agent.remove': { roles: ['captain', 'admin'], doc: 'remove agents (captains: role `agent` only)' },
  'status.own': { roles: ['agent', 'captain', 'admin'], doc: 'set one’s own status and mission' },
  'wrapup.send': { roles: ['captain', 'admin'], doc: 'send the end-of-cycle message' },
  'channel.create': { roles: ['agent', 'captain', 'admin'], doc: 'create channels; join and leave them' },
  'channel.post.any': { roles: ['captain', 'admin'], doc: 'post to a channel without being a member; read any channel’s history' },
  'task.work': { roles: ['agent', 'captain', 'admin'], doc: 'claim tasks, mark them done, release them, ask for and give reviews' },
  'task.create': { roles: ['captain', 'admin'], doc: 'put tasks (contracts) on the board' },
  'task.manage': { roles: ['captain', 'admin'], doc: 'release another agent’s task; verify a done task without review' },
  'template.manage': { roles: ['captain', 'admin'], doc: 'save message templates; broadcast from a template' },
  'keys.manage': { roles: ['admin'], doc: 'see and rotate the encryption keys' },
  'config.manage': { roles: ['admin'], doc: 'change shared settings and roll them back' },
  'token.manage': { roles: ['admin'], doc: 'create, list, revoke and rotate tokens of any agent' },
  'act.as': { roles: ['captain', 'admin'], doc: 'act for another agent (`--as`; captains: for role `agent` only)' },
  'audit.read': { roles: ['admin'], doc: 'list the audit trail and verify its chain' },
  'target.own': { roles: ['agent', 'captain', 'admin'], doc: 'add, list, test and remove one’s own webhook delivery targets; see their status' },
  'target.any': { roles: ['captain', 'admin'], doc: 'the same for another agent’s targets (captains: role `agent` only)' },
  'retention.run': { roles: ['admin'], doc: 'run retention now (`swarm retention run`), or see what it would remove' },
  'backup.manage': { roles: ['admin'], doc: 'take backups of the hub while it serves, and list them (`swarm backup`)' },
  'target.host': { roles: ['admin'], doc: 'add or remove file, tmux and command targets, which act on the hub’s host with its privileges' },
} as const satisfies Record<string, { roles: readonly Role[]; doc: string }>;

export type Operation = keyof typeof OPERATIONS;

export const OPERATION_NAMES = Object.keys(OPERATIONS) as Operation[];

/** Operations a token's scopes never restrict: knowing who one is. */
const UNSCOPED: ReadonlySet<Operation> = new Set(['identity.own']);

export function isOperation(name: string): name is Operation {
  return Object.hasOwn(OPERATIONS, name);
}

export function allows(role: Role, op: Operation): boolean {
  return (OPERATIONS[op].roles as readonly Role[]).includes(role);
}

/** Whether a token's scopes (null: no restriction) cover the operation. */
export function scopeAllows(scopes: readonly string[] | null | undefined, op: Operation): boolean {
  return scopes === null || scopes === undefined || UNSCOPED.has(op) || scopes.includes(op);
}

/** Captains manage and speak for plain agents; admins for anyone. */
export function mayManage(actor: Role, target: Role): boolean {
  return actor === 'admin' || (actor === 'captain' && target === 'agent');
}
