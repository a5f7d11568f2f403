import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { effectivePresence } from '../../src/domain/agent.js';
import { isId, newId } from '../../src/domain/ids.js';
import { deriveKind, parseRecipients, priorityRank } from '../../src/domain/message.js';

describe('recipients', () => {
  it('splits comma lists, trims, drops empties and duplicates, keeps order', () => {
    assert.deepEqual(parseRecipients('Agent-2, Agent-1,,Agent-2'), ['Agent-2', 'Agent-1']);
    assert.deepEqual(parseRecipients(['Agent-1', 'all']), ['Agent-1', 'all']);
    assert.deepEqual(parseRecipients(' , '), []);
  });
});

describe('sender/recipient tag', () => {
  const base = { sender: 'Agent-1', to: ['Agent-2'], recipientRoles: ['agent' as const] };
  it('A2A between agents', () => assert.equal(deriveKind({ ...base, senderRole: 'agent' }), 'A2A'));
  it('A2C when an agent writes to the captain', () => assert.equal(deriveKind({ ...base, senderRole: 'agent', recipientRoles: ['captain'] }), 'A2C'));
  it('C2A and C2A-ALL from a captain', () => {
    assert.equal(deriveKind({ ...base, senderRole: 'captain' }), 'C2A');
    assert.equal(deriveKind({ ...base, senderRole: 'captain', to: ['all'] }), 'C2A-ALL');
  });
  it('H2A from humans and admins, S2A from the system', () => {
    assert.equal(deriveKind({ ...base, sender: 'human:ana', senderRole: 'agent' }), 'H2A');
    assert.equal(deriveKind({ ...base, senderRole: 'admin' }), 'H2A');
    assert.equal(deriveKind({ ...base, sender: 'system', senderRole: 'system' }), 'S2A');
  });
});

describe('ids', () => {
  it('are sortable ULIDs, monotonic within one millisecond', () => {
    const ids = Array.from({ length: 1000 }, () => newId(1_700_000_000_000));
    assert.ok(ids.every(isId));
    assert.deepEqual([...ids].sort(), ids);
    assert.equal(new Set(ids).size, ids.length);
  });
});

describe('presence', () => {
  const t = { idleAfterMs: 1000, offlineAfterMs: 5000 };
  it('follows silence: status, then idle, then offline', () => {
    assert.equal(effectivePresence({ status: 'busy', lastSeenAt: 0 }, 500, t), 'busy');
    assert.equal(effectivePresence({ status: 'busy', lastSeenAt: 0 }, 1500, t), 'idle');
    assert.equal(effectivePresence({ status: 'busy', lastSeenAt: 0 }, 5000, t), 'offline');
    assert.equal(effectivePresence({ status: 'online', lastSeenAt: null }, 0, t), 'offline');
  });
  it('ranks urgent above regular', () => assert.ok(priorityRank('urgent') > priorityRank('regular')));
});
