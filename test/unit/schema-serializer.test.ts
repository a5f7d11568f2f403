// Response serialisation by schema (server/schema-serializer.ts): the same text as zod's encoder
// and JSON.stringify, only the schema's properties, a missing required one refused, and zod's
// serializer kept for a schema JSON Schema cannot express.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { SendResponse } from '../../src/api/schemas.js';
import { schemaSerializerCompiler } from '../../src/server/schema-serializer.js';

const route = (schema: unknown): { schema: unknown; method: string; url: string } => ({ schema, method: 'POST', url: '/v1/messages' });
const answer = {
  message: {
    id: '01HZY3G5W7J9K1M3N5P7Q9S1T3',
    from: 'Agent-1',
    to: ['Agent-2', 'all'],
    kind: 'A2A',
    type: 'text',
    priority: 'high',
    subject: 'quotes " and \\ and \u2028',
    body: 'é ✓ \n\t<script>',
    tags: ['a', 'b'],
    thread_id: '01HZY3G5W7J9K1M3N5P7Q9S1T3',
    reply_to: null,
    metadata: { nested: { list: [1, 'two', null, { three: true }] }, n: 1.5 },
    created_at: '2026-01-01T00:00:00.000Z',
    expires_at: '2026-01-02T00:00:00.000Z',
  },
  recipients: ['Agent-2'],
  duplicate: false,
};

describe('schemaSerializerCompiler', () => {
  it('writes what the zod serializer wrote for the send answer', () => {
    const s = schemaSerializerCompiler(route(SendResponse));
    assert.equal(s(answer), JSON.stringify(z.encode(SendResponse, answer as z.output<typeof SendResponse>)));
    assert.deepEqual(JSON.parse(s(answer)), answer);
  });

  it('writes only the properties the schema names', () => {
    const s = schemaSerializerCompiler(route(SendResponse));
    const out = JSON.parse(s({ ...answer, secret: 'x', message: { ...answer.message, request_hash: 'y' } })) as Record<string, unknown>;
    assert.equal('secret' in out, false);
    assert.equal('request_hash' in (out.message as Record<string, unknown>), false);
  });

  it('refuses an answer that lacks a required property', () => {
    const s = schemaSerializerCompiler(route(SendResponse));
    assert.throws(() => s({ recipients: [], duplicate: false }));
  });

  it('keeps zod for a schema JSON Schema cannot express', () => {
    const s = schemaSerializerCompiler(route(z.object({ at: z.date() })));
    assert.equal(s({ at: new Date(0) }), '{"at":"1970-01-01T00:00:00.000Z"}');
  });
});
