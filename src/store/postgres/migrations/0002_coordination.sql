-- Coordination and shared settings in PostgreSQL terms: the same logical schema as SQLite's
-- migrations 0004 (channels with members, the contract board, peer reviews, message templates) and
-- 0005 (versioned shared settings). Identifiers compare and sort bytewise (COLLATE "C") like
-- SQLite's; times are Unix milliseconds.

-- Three channels exist on every hub; their auto_join makes every agent and captain a member when
-- registered.
CREATE TABLE channels (
  name         TEXT COLLATE "C" PRIMARY KEY,
  description  TEXT NOT NULL DEFAULT '',
  auto_join    BOOLEAN NOT NULL DEFAULT false,
  created_by   TEXT COLLATE "C" NOT NULL,
  created_at   BIGINT NOT NULL
);

CREATE TABLE channel_members (
  channel    TEXT COLLATE "C" NOT NULL REFERENCES channels(name),
  agent_id   TEXT COLLATE "C" NOT NULL,
  joined_at  BIGINT NOT NULL,
  PRIMARY KEY (channel, agent_id)
);
CREATE INDEX channel_members_agent ON channel_members(agent_id);

-- Which channels a message was posted to (a message may name several, and agents too).
CREATE TABLE message_channels (
  channel      TEXT COLLATE "C" NOT NULL,
  message_seq  BIGINT NOT NULL,
  PRIMARY KEY (channel, message_seq)
);

INSERT INTO channels (name, description, auto_join, created_by, created_at) VALUES
  ('deployments', 'Deployment notices and coordination', true, 'system', 0),
  ('reviews', 'Technical review requests and results', true, 'system', 0),
  ('reports', 'Shared reports', true, 'system', 0);
INSERT INTO channel_members (channel, agent_id, joined_at)
  SELECT c.name, a.id, 0 FROM channels c CROSS JOIN agents a WHERE c.auto_join AND a.removed_at IS NULL AND a.role <> 'admin';

CREATE TABLE tasks (
  seq           BIGSERIAL PRIMARY KEY,
  id            TEXT COLLATE "C" NOT NULL UNIQUE,
  title         TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  points        INTEGER NOT NULL CHECK (points >= 0),
  role          TEXT,
  capabilities  JSONB NOT NULL DEFAULT '[]',
  priority      SMALLINT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'verified')),
  assignee      TEXT COLLATE "C",
  claimed_at    BIGINT,
  done_at       BIGINT,
  note          TEXT NOT NULL DEFAULT '',
  verified_at   BIGINT,
  verified_by   TEXT COLLATE "C",
  created_by    TEXT COLLATE "C" NOT NULL,
  created_at    BIGINT NOT NULL,
  thread_id     TEXT COLLATE "C"
);
CREATE INDEX tasks_open ON tasks(priority DESC, seq) WHERE status = 'open';
CREATE INDEX tasks_assignee ON tasks(assignee, status);
CREATE INDEX tasks_claimed ON tasks(claimed_at) WHERE status = 'claimed';

CREATE TABLE reviews (
  task_id       TEXT COLLATE "C" NOT NULL,
  round         INTEGER NOT NULL,
  reviewer      TEXT COLLATE "C" NOT NULL,
  requested_by  TEXT COLLATE "C" NOT NULL,
  requested_at  BIGINT NOT NULL,
  verdict       TEXT CHECK (verdict IN ('approved', 'changes')),
  comment       TEXT NOT NULL DEFAULT '',
  decided_at    BIGINT,
  PRIMARY KEY (task_id, round, reviewer)
);
CREATE INDEX reviews_reviewer ON reviews(reviewer, decided_at);

CREATE TABLE templates (
  name        TEXT COLLATE "C" PRIMARY KEY,
  body        TEXT NOT NULL,
  updated_by  TEXT COLLATE "C" NOT NULL,
  updated_at  BIGINT NOT NULL
);

-- Shared settings held by the hub, versioned: every change is a row with its version, author,
-- the value before and after. The current value of a key is its latest row; a NULL value means
-- "back to the hub's own configuration". Rollback writes new rows; history is never rewritten.
-- Versions are assigned max + 1 by writers holding an exclusive lock on the table (postgres-store.ts
-- recordSettings), so they have no gaps and commit in order: a process polling the newest version
-- never sees version n + 1 before n. JSON (not JSONB): values come back exactly as written.
CREATE TABLE settings (
  version     BIGINT PRIMARY KEY,
  key         TEXT COLLATE "C" NOT NULL,
  value       JSON,
  previous    JSON,
  author      TEXT COLLATE "C" NOT NULL,
  note        TEXT NOT NULL DEFAULT '',
  created_at  BIGINT NOT NULL
);
CREATE INDEX settings_key ON settings(key, version);
