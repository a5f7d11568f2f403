// Shared settings: the subset of the configuration the hub holds and versions. A value set with
// `swarm config set` overrides the process's own configuration in every hub process; rollback
// writes the old values again as new versions, so the history is never rewritten. Services read
// values through `get` at the moment they use them, so a change applies without a restart.
import type { Config, ConfigKey, SharedKey } from '../config/keys.js';
import { CONFIG_KEYS, SHARED_KEYS } from '../config/keys.js';
import { TEMPLATE_PLACEHOLDERS, unknownPlaceholders } from '../domain/template.js';
import { HubError } from '../errors.js';
import type { SettingChange, Store } from '../store/store.js';
import type { Actor } from './actor.js';
import { authorize } from './actor.js';
import { by, entry } from './audit.js';

export interface SettingView {
  key: SharedKey;
  value: unknown;
  /** `hub` when set with `config set` (version given), otherwise `local` (file, environment, flag or default). */
  source: 'hub' | 'local';
  version: number | null;
}

function isShared(key: string): key is SharedKey {
  return (SHARED_KEYS as string[]).includes(key);
}

export class Settings {
  private overrides = new Map<string, { value: unknown; version: number }>();
  private version = 0;

  /** The newest version of the shared settings this process applied (0: never changed). */
  get currentVersion(): number {
    return this.version;
  }
  private poller: NodeJS.Timeout | null = null;

  constructor(
    private readonly store: Store,
    private readonly local: Config,
    private readonly now: () => number,
    /** Told after a change made here (other processes reload). */
    private readonly onChanged: () => void = () => undefined,
  ) {}

  get<K extends ConfigKey>(key: K): Config[K] {
    const o = this.overrides.get(key);
    return (o === undefined ? this.local[key] : o.value) as Config[K];
  }

  /** Loads the hub's values; with `pollMs`, keeps reloading when another process changed them. */
  async load(pollMs?: number): Promise<void> {
    const { version, values } = await this.store.currentSettings();
    const history = version === 0 ? [] : await this.store.settingsHistory(10_000);
    const versions = new Map<string, number>();
    for (const h of history) if (!versions.has(h.key)) versions.set(h.key, h.version);
    const next = new Map<string, { value: unknown; version: number }>();
    for (const [key, value] of values) {
      if (value === null || !isShared(key)) continue;
      const parsed = CONFIG_KEYS[key].schema.safeParse(value);
      if (parsed.success) next.set(key, { value: parsed.data, version: versions.get(key) ?? version });
    }
    this.overrides = next;
    this.version = version;
    if (pollMs !== undefined && this.poller === null) {
      this.poller = setInterval(() => {
        void this.store.settingsVersion().then(
          (v) => (v !== this.version ? this.load() : undefined),
          () => undefined,
        );
      }, pollMs);
      this.poller.unref();
    }
  }

  stop(): void {
    if (this.poller !== null) clearInterval(this.poller);
    this.poller = null;
  }

  /** The version of the shared settings as stored (moves with every change, in any process). */
  storedVersion(): Promise<number> {
    return this.store.settingsVersion();
  }

  list(actor: Actor): SettingView[] {
    authorize(actor, 'agent.list', 'see the shared settings');
    return SHARED_KEYS.map((key) => {
      const o = this.overrides.get(key);
      return { key: key as SharedKey, value: this.get(key), source: o === undefined ? 'local' : 'hub', version: o?.version ?? null };
    });
  }

  /** Checks a value for a shared key: the key's schema, and placeholders for templates. */
  private validate(key: string, raw: unknown): unknown {
    if (!isShared(key)) {
      const known = Object.hasOwn(CONFIG_KEYS, key);
      throw new HubError(
        'validation_failed',
        known
          ? `${key} is this process's own setting, not a shared one: set it in swarm.yaml, ${CONFIG_KEYS[key as ConfigKey].env} or a flag`
          : `unknown setting ${key} (shared settings: ${SHARED_KEYS.join(', ')})`,
        { details: { key } },
      );
    }
    const r = CONFIG_KEYS[key].schema.safeParse(raw);
    if (!r.success) {
      throw new HubError('validation_failed', `${key} = ${JSON.stringify(raw)} is invalid: ${r.error.issues.map((i) => i.message).join('; ')}`, { details: { key } });
    }
    if (key.startsWith('templates.')) {
      const unknown = unknownPlaceholders(String(r.data));
      if (unknown.length > 0) {
        throw new HubError('validation_failed', `${key} uses unknown placeholder {${unknown[0] ?? ''}} (allowed: ${TEMPLATE_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')})`);
      }
    }
    return r.data;
  }

  private checkPresence(next: Map<string, unknown>): void {
    const idle = (next.has('presence.idleSeconds') ? next.get('presence.idleSeconds') : this.get('presence.idleSeconds')) as number;
    const offline = (next.has('presence.offlineSeconds') ? next.get('presence.offlineSeconds') : this.get('presence.offlineSeconds')) as number;
    if (idle > offline) throw new HubError('validation_failed', `presence.idleSeconds (${idle}) must not exceed presence.offlineSeconds (${offline})`);
  }

  async set(actor: Actor, key: string, raw: unknown): Promise<SettingChange> {
    authorize(actor, 'config.manage', 'change shared settings');
    const value = this.validate(key, raw);
    this.checkPresence(new Map([[key, value]]));
    const at = this.now();
    const b = by(actor);
    const [change] = await this.store.recordSettings([{ key, value }], actor.self.id, 'set', at, ([c]) => [
      entry({ ...b, action: 'config.set', target: key, detail: { ...b.detail, value, previous: c?.previous ?? null, version: c?.version } }, at),
    ]);
    await this.load();
    this.onChanged();
    if (change === undefined) throw new HubError('internal', 'setting not recorded');
    return change;
  }

  /** Sets every shared key back to its value right after `version`, as new versions. */
  async rollback(actor: Actor, version: number): Promise<SettingChange[]> {
    authorize(actor, 'config.manage', 'roll back shared settings');
    const newest = await this.store.settingsVersion();
    if (!Number.isInteger(version) || version < 0 || version > newest) {
      throw new HubError('validation_failed', `no version ${version}: versions run from 0 (nothing set) to ${newest}`);
    }
    const then = await this.store.settingsAt(version);
    const { values: now } = await this.store.currentSettings();
    const changes: { key: string; value: unknown }[] = [];
    for (const [key, current] of now) {
      const target = then.has(key) ? then.get(key) : null;
      if (JSON.stringify(target) !== JSON.stringify(current)) changes.push({ key, value: target ?? null });
    }
    this.checkPresence(new Map(changes.map((c) => [c.key, c.value ?? this.local[c.key as ConfigKey]])));
    const at = this.now();
    const b = by(actor);
    const recorded = await this.store.recordSettings(changes, actor.self.id, `rollback to v${version}`, at, (done) => [
      entry({ ...b, action: 'config.rollback', target: `v${version}`, detail: { ...b.detail, changes: done.map((c) => ({ key: c.key, value: c.value, version: c.version })) } }, at),
    ]);
    await this.load();
    if (recorded.length > 0) this.onChanged();
    return recorded;
  }

  async history(actor: Actor, limit: number): Promise<SettingChange[]> {
    authorize(actor, 'agent.list', 'see the settings history');
    return this.store.settingsHistory(limit);
  }
}
