// One MCP tool: a name, a description written for a model, a zod input schema (the API's own where
// it fits) and a function over the client. Results are compact JSON text; a hub refusal is a tool
// error (isError) carrying the hub's stable code, so a model can tell `forbidden` from a typo.
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
import type { SwarmClient } from '../client/client.js';
import { HubError, isHubError } from '../errors.js';

export interface ToolContext {
  client: SwarmClient;
}

export interface ToolDef {
  name: string;
  description: string;
  input: z.ZodObject;
  /** Reads only: clients may run it without asking. */
  readOnly?: boolean;
  run(ctx: ToolContext, args: Record<string, unknown>): Promise<unknown>;
}

/** Typed at the definition, stored untyped: the SDK validates `args` against `input` before `run`. */
export function tool<S extends z.ZodObject>(d: { name: string; description: string; input: S; readOnly?: boolean; run(ctx: ToolContext, args: z.output<S>): Promise<unknown> }): ToolDef {
  return d as unknown as ToolDef;
}

export function ok(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

export function toolError(e: HubError): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify({ error: e.code, message: e.message }) }], isError: true };
}

/** Runs a tool; a HubError becomes a tool error, `onHubError` hears of it (a revoked token ends stdio sessions). */
export async function runTool(def: ToolDef, ctx: ToolContext, args: Record<string, unknown>, onHubError?: (e: HubError) => void): Promise<CallToolResult> {
  try {
    return ok(await def.run(ctx, args));
  } catch (e) {
    if (!isHubError(e)) throw e;
    onHubError?.(e);
    return toolError(e);
  }
}

/** A refusal before anything is sent, naming the field. */
export function invalid(field: string, why: string): HubError {
  return new HubError('validation_failed', `${field}: ${why}`, { details: { field } });
}
