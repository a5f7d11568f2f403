// The layering of STYLE.md as a lint rule: an import that reaches up (store -> hub, hub -> server,
// domain -> anything) fails the lint. Each directory under src/ is a layer; a layer may import
// itself and the layers listed for it, nothing else. Relative imports only: packages are not layers.
import { dirname, relative, resolve, sep } from 'node:path';

/** What each layer of src/ may import besides itself. `errors` is src/errors.ts. */
export const LAYERS = {
  domain: [],
  errors: [],
  observability: ['errors', 'domain'],
  security: ['errors', 'domain'],
  config: ['errors', 'domain', 'security'],
  store: ['errors', 'domain', 'security', 'observability'],
  hub: ['errors', 'domain', 'security', 'observability', 'config', 'store'],
  api: ['errors', 'domain', 'store'],
  client: ['errors', 'domain', 'api'],
  /** /mcp on the hub runs the MCP server over an in-process client (src/server/mcp-http.ts). */
  server: ['errors', 'domain', 'security', 'observability', 'config', 'store', 'hub', 'api', 'client', 'mcp', 'delivery'],
  /** src/index.ts: the package's entry (the SDK), over the client. */
  index: ['errors', 'api', 'client'],
  cli: ['errors', 'domain', 'security', 'observability', 'config', 'store', 'hub', 'api', 'client', 'server', 'mcp', 'delivery'],
  /** The MCP server (`swarm mcp`): a face over the client SDK, like the CLI over HTTP; never the hub itself. */
  mcp: ['errors', 'domain', 'api', 'client'],
  /** Deliverers push to where agents live (webhook, file, tmux, command); runner.ts drives them over the hub's target queue. */
  delivery: ['errors', 'domain', 'security', 'observability', 'hub'],
  /** The web dashboard's browser code: a face over the HTTP API, using its wire types (types only). */
  dashboard: ['api'],
};

function layerOf(file, srcDir) {
  const rel = relative(srcDir, file);
  if (rel.startsWith('..')) return null;
  const first = rel.split(sep)[0] ?? '';
  return first.replace(/\.(ts|js)$/, '');
}

const noUpwardImport = {
  meta: { type: 'problem', schema: [], messages: { up: "layer '{{from}}' may not import '{{to}}' ({{source}}): see STYLE.md's layering and eslint-layers.js" } },
  create(context) {
    const file = context.filename;
    const srcDir = resolve(context.cwd, 'src');
    const from = layerOf(file, srcDir);
    if (from === null || !(from in LAYERS)) return {};
    const check = (node) => {
      const source = node.source?.value;
      if (typeof source !== 'string' || !source.startsWith('.')) return;
      const to = layerOf(resolve(dirname(file), source), srcDir);
      if (to === null || to === from || LAYERS[from].includes(to)) return;
      context.report({ node: node.source, messageId: 'up', data: { from, to, source } });
    };
    return { ImportDeclaration: check, ExportNamedDeclaration: check, ExportAllDeclaration: check, ImportExpression: check };
  },
};

export default { rules: { 'no-upward-import': noUpwardImport } };
