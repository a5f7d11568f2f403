// The hub: every use case, wired over one Store. The HTTP server, CLI (through the client) and
// later MCP are thin faces over this object; none of them holds business rules.
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config/keys.js';
import type { Store } from '../store/store.js';
import { Agents } from './agents.js';
import { Auth } from './auth.js';
import { Inbox } from './inbox.js';
import { Messages } from './messages.js';
import { Onboarding } from './onboarding.js';
import { PresenceTracker } from './presence.js';
import { InboxSignals } from './signals.js';

export interface HubOptions {
  store: Store;
  config: Config;
  now?: () => number;
}

export class Hub {
  readonly store: Store;
  readonly config: Config;
  readonly auth: Auth;
  readonly presence: PresenceTracker;
  readonly signals = new InboxSignals();
  readonly agents: Agents;
  readonly messages: Messages;
  readonly inbox: Inbox;
  readonly onboarding: Onboarding;
  readonly now: () => number;

  constructor(o: HubOptions) {
    this.store = o.store;
    this.config = o.config;
    this.now = o.now ?? Date.now;
    this.auth = new Auth(o.store);
    this.presence = new PresenceTracker(o.store, {
      idleAfterMs: o.config['presence.idleSeconds'] * 1000,
      offlineAfterMs: o.config['presence.offlineSeconds'] * 1000,
    });
    this.agents = new Agents(o.store, this.presence, this.now);
    this.messages = new Messages(o.store, this.signals, this.now, { maxRecipients: o.config['limits.recipients'] });
    this.inbox = new Inbox(o.store, this.signals, this.now);
    this.onboarding = new Onboarding(this.agents, this.messages, {
      onboarding: o.config['templates.onboarding'],
      wrapup: o.config['templates.wrapup'],
    });
  }

  start(): void {
    this.presence.start();
  }

  async stop(): Promise<void> {
    this.signals.close();
    await this.presence.stop();
  }
}

export const ADMIN_ID = 'admin';
export const ADMIN_TOKEN_FILE = 'admin.token';

/**
 * First start: creates the `admin` identity and writes its token to <dataDir>/admin.token (0600),
 * which the CLI run from the same directory picks up. If the file was deleted, a new admin token
 * is issued and written (whoever can write the data directory already owns the hub).
 */
export async function ensureAdminToken(hub: Hub, dataDir: string): Promise<{ file: string; created: boolean }> {
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  if (existsSync(file) && (await hub.store.getAgent(ADMIN_ID)) !== null && (await hub.store.hasLiveToken(ADMIN_ID))) {
    return { file, created: false };
  }
  let token: string;
  if ((await hub.store.getAgent(ADMIN_ID)) === null) {
    token = (await hub.agents.create({ id: ADMIN_ID, role: 'admin', specialty: 'Hub administrator' })).token;
  } else {
    token = await hub.agents.issueToken(ADMIN_ID, 'admin.token reissued');
  }
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return { file, created: true };
}
