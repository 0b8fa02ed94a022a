-- Accounts. email is stored lower-case; name_lower serves prefix search by name.
CREATE TABLE users (
    id             TEXT    NOT NULL PRIMARY KEY,
    email          TEXT    NOT NULL UNIQUE,
    name           TEXT    NOT NULL,
    name_lower     TEXT    NOT NULL,
    status_message TEXT    NOT NULL DEFAULT '',
    password_hash  TEXT    NOT NULL DEFAULT '',
    avatar_key     TEXT    NOT NULL DEFAULT '',
    verified       INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX users_name_lower ON users (name_lower);

-- Pending friend requests; pair_key (the two ids sorted, joined by ":") makes a request
-- unique in both directions.
CREATE TABLE friend_requests (
    id         TEXT    NOT NULL PRIMARY KEY,
    from_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    to_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    pair_key   TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX friend_requests_to ON friend_requests (to_id, created_at, id);
CREATE INDEX friend_requests_from ON friend_requests (from_id, created_at, id);

-- Friendships, one row per direction, so that a user's friends are one range scan.
CREATE TABLE friendships (
    user_id   TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    friend_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    since     INTEGER NOT NULL,
    PRIMARY KEY (user_id, friend_id)
) WITHOUT ROWID;

CREATE TABLE blocks (
    blocker_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    blocked_id TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
) WITHOUT ROWID;

-- A session is a family of refresh tokens; tokens are kept as hashes only.
CREATE TABLE sessions (
    id         TEXT    NOT NULL PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE refresh_tokens (
    hash       TEXT    NOT NULL PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    spent_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);

CREATE TABLE verification_codes (
    email      TEXT    NOT NULL PRIMARY KEY,
    code_hash  TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    sent_at    INTEGER NOT NULL
) WITHOUT ROWID;
