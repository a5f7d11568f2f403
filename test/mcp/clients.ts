// The official MCP SDK's Client against Swarm: over stdio (a real `swarm mcp` process) or over
// Streamable HTTP (POST /mcp on a real hub), and a tool call that returns parsed JSON.
import assert from 'node:assert/strict';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { SWARM_BIN } from '../support/paths.js';
import { cleanEnv } from '../support/process.js';

export interface McpSession {
  client: Client;
  /** What the `swarm mcp` process wrote to stderr (stdio only). */
  stderr(): string;
  /** Resolves when the transport closed (for stdio: the process ended). */
  closed: Promise<void>;
  close(): Promise<void>;
}

/** `swarm mcp ARGS…` as the holder of `token`, driven by the SDK's Client over stdio. */
export async function stdioSession(url: string, token: string, args: string[] = []): Promise<McpSession> {
  const env = cleanEnv({ SWARM_HUB: url, SWARM_TOKEN: token });
  const transport = new StdioClientTransport({ command: process.execPath, args: [SWARM_BIN, 'mcp', ...args], env: env as Record<string, string>, stderr: 'pipe' });
  let err = '';
  transport.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const client = new Client({ name: 'swarm-test', version: '1.0.0' });
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  client.onclose = () => onClosed();
  await client.connect(transport);
  return { client, stderr: () => err, closed, close: () => client.close() };
}

/** The hub's /mcp endpoint as the holder of `token`. */
export async function httpSession(url: string, token: string, o: { tools?: string; headers?: Record<string, string> } = {}): Promise<McpSession> {
  const endpoint = new URL(`${url}/mcp${o.tools === undefined ? '' : `?tools=${o.tools}`}`);
  const transport = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { authorization: `Bearer ${token}`, ...o.headers } } });
  const client = new Client({ name: 'swarm-test', version: '1.0.0' });
  let onClosed: () => void = () => undefined;
  const closed = new Promise<void>((resolve) => (onClosed = resolve));
  client.onclose = () => onClosed();
  await client.connect(transport);
  return { client, stderr: () => '', closed, close: () => client.close() };
}

export interface ToolAnswer {
  isError: boolean;
  text: string;
  json: any;
}

export async function call(client: Client, name: string, args: Record<string, unknown> = {}): Promise<ToolAnswer> {
  const r = await client.callTool({ name, arguments: args });
  const content = r.content as { type: string; text: string }[];
  const text = content.map((c) => c.text).join('');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { isError: r.isError === true, text, json };
}

/** A successful call's JSON. */
export async function ok(client: Client, name: string, args: Record<string, unknown> = {}): Promise<any> {
  const r = await call(client, name, args);
  assert.equal(r.isError, false, `${name} ${JSON.stringify(args)} failed: ${r.text}`);
  return r.json;
}

/** A tool error; returns its text. */
export async function toolError(client: Client, name: string, args: Record<string, unknown>): Promise<string> {
  const r = await call(client, name, args);
  assert.equal(r.isError, true, `${name} ${JSON.stringify(args)} should fail, answered ${r.text}`);
  return r.text;
}

/** A compact list answer ({cols, rows}) as objects, e.g. [{ id, from, kind, pri, subject, first_lines }]. */
export function records(answer: { cols: string[]; rows: string[][] }): Record<string, string>[] {
  assert.ok(Array.isArray(answer.cols) && Array.isArray(answer.rows), `a compact list: ${JSON.stringify(answer).slice(0, 200)}`);
  return answer.rows.map((r) => Object.fromEntries(answer.cols.map((c, i) => [c, r[i] ?? ''])));
}
