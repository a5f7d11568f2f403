// The wire's primitives, shared by every schema file of the API (schemas.ts, admin-schemas.ts).
import { z } from 'zod';
import { AGENT_ID_PATTERN } from '../domain/agent.js';
import { ID_PATTERN } from '../domain/ids.js';

export const AgentId = z.string().regex(AGENT_ID_PATTERN, 'an agent id: letters, digits, . _ - (optionally human:), at most 64 characters');
export const MessageId = z.string().regex(ID_PATTERN, 'a message id (26-character ULID)');
export const Time = z.iso.datetime({ offset: true });
