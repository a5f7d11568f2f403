// The wire types the dashboard imports (types only) reach src/domain, which imports node:crypto for
// its id generator. Nothing of it runs in the browser (type imports are erased from the bundle);
// this lets the DOM-only typecheck pass without giving browser code Node's types.
declare module 'node:crypto';
