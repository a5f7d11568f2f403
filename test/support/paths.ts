// Locations inside the checkout, from the compiled test files (dist/test/...).
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const SWARM_BIN = fileURLToPath(new URL('../../../bin/swarm.cjs', import.meta.url));
export const MESSAGING_CLI_BIN = fileURLToPath(new URL('../../../bin/messaging-cli.cjs', import.meta.url));
