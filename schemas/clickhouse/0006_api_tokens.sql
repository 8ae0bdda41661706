-- Tokens of the HTTP API: who may call it, and as what role.
--
-- Only the SHA-256 of each token is kept (the token itself is shown once, when created). A token
-- is 32 random bytes, so its hash cannot be reversed or guessed; a slow password hash would only
-- cost every request time. Rows are never updated: a revocation is one more row with event
-- 'revoked'. A token is live when it has a 'created' row and no 'revoked' row:
--
--   SELECT id, name, role FROM walaudit.api_tokens WHERE event = 'created'
--     AND id NOT IN (SELECT id FROM walaudit.api_tokens WHERE event = 'revoked')
CREATE TABLE IF NOT EXISTS {database}.api_tokens
(
    id String COMMENT 'Token id, 12 hex digits: names the token in lists and revocations; not secret.',
    event LowCardinality(String) COMMENT 'created, or revoked.',
    name String COMMENT 'What the token is for, as its creator named it.',
    role LowCardinality(String) COMMENT 'viewer (read, export, acknowledge alerts) or manager (also restore, rules, retention, tokens).',
    token_hash String COMMENT 'SHA-256 of the token, hex; empty on revoked rows.',
    changed_at DateTime64(3, 'UTC') COMMENT 'When it was created or revoked (wall clock, UTC).',
    changed_by String COMMENT 'Who created or revoked it (the API principal).'
)
ENGINE = MergeTree
ORDER BY (id, event, changed_at)
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
COMMENT 'walaudit HTTP API tokens: hashes only; revocations are rows with event revoked.';
