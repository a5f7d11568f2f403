// The package's entry: `import { Swarm, HubError } from 'swarm-hub'` (docs/sdk.md). The typed
// client, its stream, the error family with its closed set of codes, and the wire types. Nothing of
// the server: a program that talks to a hub loads no database driver.
export { Swarm, type ClientOptions as SwarmOptions, type HistoryParams, type InboxParams, type OpenStreamOptions } from './client/client.js';
export type { HubEvent, HubStream, StreamOptions } from './client/stream.js';
export { ERROR_CODES, type ErrorCode, exitCodeOf, HubError, isHubError } from './errors.js';
export type * from './api/schemas.js';
