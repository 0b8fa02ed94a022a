-- Conversations. direct_key (the two member ids sorted, joined by ":") is set for direct
-- rooms only and makes the pair's room unique. last_seq numbers the room's messages.
CREATE TABLE rooms (
    id         TEXT    NOT NULL PRIMARY KEY,
    type       TEXT    NOT NULL,
    name       TEXT    NOT NULL DEFAULT '',
    created_by TEXT    NOT NULL,
    direct_key TEXT    UNIQUE,
    last_seq   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE room_members (
    room_id       TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL,
    joined_at     INTEGER NOT NULL,
    last_read_seq INTEGER NOT NULL DEFAULT 0,
    muted         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id)
) WITHOUT ROWID;
CREATE INDEX room_members_user ON room_members (user_id);

-- Messages, numbered per room and clustered by (room_id, seq): history pages are range
-- scans. client_msg_id is NULL when the client sent none, so that only real ids take part
-- in the idempotency key. id (a UUIDv7) is not indexed: messages are addressed by
-- (room_id, seq); every index costs a page write per message.
CREATE TABLE messages (
    room_id       TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    id            TEXT    NOT NULL,
    seq           INTEGER NOT NULL,
    sender_id     TEXT    NOT NULL,
    body          TEXT    NOT NULL,
    client_msg_id TEXT,
    reply_to_seq  INTEGER,
    created_at    INTEGER NOT NULL,
    edited_at     INTEGER,
    deleted_at    INTEGER,
    PRIMARY KEY (room_id, seq),
    UNIQUE (room_id, sender_id, client_msg_id)
) WITHOUT ROWID;

-- Reactions; id orders them by first use.
CREATE TABLE message_reactions (
    id         INTEGER NOT NULL PRIMARY KEY,
    room_id    TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    user_id    TEXT    NOT NULL,
    emoji      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (room_id, seq, user_id, emoji),
    FOREIGN KEY (room_id, seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
);

-- Push targets. token is an FCM registration token or a Web Push endpoint (a long URL);
-- token_hash (hex SHA-256 of token) keeps the unique key short on every database.
CREATE TABLE devices (
    id           TEXT    NOT NULL PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    platform     TEXT    NOT NULL,
    token        TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL,
    subscription TEXT,
    created_at   INTEGER NOT NULL,
    UNIQUE (user_id, platform, token_hash)
);
