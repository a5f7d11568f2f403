-- Coordination: channels with members, the contract board (tasks), peer reviews, and named
-- message templates. Three channels exist on every hub; their auto_join makes every agent and
-- captain a member when registered.

CREATE TABLE channels (
  name         TEXT PRIMARY KEY,
  description  TEXT NOT NULL DEFAULT '',
  auto_join    INTEGER NOT NULL DEFAULT 0,
  created_by   TEXT NOT NULL,
  created_at   INTEGER NOT NULL
);

CREATE TABLE channel_members (
  channel    TEXT NOT NULL REFERENCES channels(name),
  agent_id   TEXT NOT NULL,
  joined_at  INTEGER NOT NULL,
  PRIMARY KEY (channel, agent_id)
) WITHOUT ROWID;
CREATE INDEX channel_members_agent ON channel_members(agent_id);

-- Which channels a message was posted to (a message may name several, and agents too).
CREATE TABLE message_channels (
  channel      TEXT NOT NULL,
  message_seq  INTEGER NOT NULL,
  PRIMARY KEY (channel, message_seq)
) WITHOUT ROWID;

INSERT INTO channels (name, description, auto_join, created_by, created_at) VALUES
  ('deployments', 'Deployment notices and coordination', 1, 'system', 0),
  ('reviews', 'Technical review requests and results', 1, 'system', 0),
  ('reports', 'Shared reports', 1, 'system', 0);
INSERT INTO channel_members (channel, agent_id, joined_at)
  SELECT c.name, a.id, 0 FROM channels c, agents a WHERE c.auto_join = 1 AND a.removed_at IS NULL AND a.role <> 'admin';

CREATE TABLE tasks (
  seq           INTEGER PRIMARY KEY,
  id            TEXT NOT NULL UNIQUE,
  title         TEXT NOT NULL,
  description   TEXT NOT NULL DEFAULT '',
  points        INTEGER NOT NULL CHECK (points >= 0),
  role          TEXT,
  capabilities  TEXT NOT NULL DEFAULT '[]',
  priority      INTEGER NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('open', 'claimed', 'done', 'verified')),
  assignee      TEXT,
  claimed_at    INTEGER,
  done_at       INTEGER,
  note          TEXT NOT NULL DEFAULT '',
  verified_at   INTEGER,
  verified_by   TEXT,
  created_by    TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  thread_id     TEXT
);
CREATE INDEX tasks_open ON tasks(priority DESC, seq) WHERE status = 'open';
CREATE INDEX tasks_assignee ON tasks(assignee, status);
CREATE INDEX tasks_claimed ON tasks(claimed_at) WHERE status = 'claimed';

CREATE TABLE reviews (
  task_id       TEXT NOT NULL,
  round         INTEGER NOT NULL,
  reviewer      TEXT NOT NULL,
  requested_by  TEXT NOT NULL,
  requested_at  INTEGER NOT NULL,
  verdict       TEXT CHECK (verdict IN ('approved', 'changes')),
  comment       TEXT NOT NULL DEFAULT '',
  decided_at    INTEGER,
  PRIMARY KEY (task_id, round, reviewer)
) WITHOUT ROWID;
CREATE INDEX reviews_reviewer ON reviews(reviewer, decided_at);

CREATE TABLE templates (
  name        TEXT PRIMARY KEY,
  body        TEXT NOT NULL,
  updated_by  TEXT NOT NULL,
  updated_at  INTEGER NOT NULL
);
