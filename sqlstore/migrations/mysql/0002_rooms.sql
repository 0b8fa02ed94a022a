-- Conversations. direct_key (the two member ids sorted, joined by ":") is set for direct
-- rooms only and makes the pair's room unique (NULLs do not collide in a unique key).
-- last_seq numbers the room's messages: CreateMessage increments it under the row's lock.
CREATE TABLE IF NOT EXISTS rooms (
    id         VARBINARY(64)  NOT NULL,
    type       VARBINARY(16)  NOT NULL,
    name       VARCHAR(255)   NOT NULL DEFAULT '',
    created_by VARBINARY(64)  NOT NULL,
    direct_key VARBINARY(160) NULL,
    last_seq   BIGINT         NOT NULL DEFAULT 0,
    created_at BIGINT         NOT NULL,
    updated_at BIGINT         NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY rooms_direct_key (direct_key)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

CREATE TABLE IF NOT EXISTS room_members (
    room_id       VARBINARY(64) NOT NULL,
    user_id       VARBINARY(64) NOT NULL,
    role          VARBINARY(16) NOT NULL,
    joined_at     BIGINT        NOT NULL,
    last_read_seq BIGINT        NOT NULL DEFAULT 0,
    muted         TINYINT       NOT NULL DEFAULT 0,
    PRIMARY KEY (room_id, user_id),
    KEY room_members_user (user_id),
    FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- Messages, numbered per room and clustered by (room_id, seq): history pages are range
-- scans of the primary key. client_msg_id is NULL when the client sent none, so that only
-- real ids take part in the idempotency key. id (a UUIDv7) is not indexed: messages are
-- addressed by (room_id, seq). body holds up to 8000 bytes of UTF-8 (TEXT: 65535 bytes).
CREATE TABLE IF NOT EXISTS messages (
    room_id       VARBINARY(64) NOT NULL,
    id            VARBINARY(64) NOT NULL,
    seq           BIGINT        NOT NULL,
    sender_id     VARBINARY(64) NOT NULL,
    body          TEXT          NOT NULL,
    client_msg_id VARBINARY(64) NULL,
    reply_to_seq  BIGINT        NULL,
    created_at    BIGINT        NOT NULL,
    edited_at     BIGINT        NULL,
    deleted_at    BIGINT        NULL,
    PRIMARY KEY (room_id, seq),
    UNIQUE KEY messages_client_id (room_id, sender_id, client_msg_id),
    FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- Reactions; id orders them by first use.
CREATE TABLE IF NOT EXISTS message_reactions (
    id         BIGINT        NOT NULL AUTO_INCREMENT,
    room_id    VARBINARY(64) NOT NULL,
    seq        BIGINT        NOT NULL,
    user_id    VARBINARY(64) NOT NULL,
    emoji      VARBINARY(64) NOT NULL,
    created_at BIGINT        NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY message_reactions_one (room_id, seq, user_id, emoji),
    FOREIGN KEY (room_id, seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- Push targets. token is an FCM registration token or a Web Push endpoint (a long URL, up to
-- 4096 bytes); token_hash (hex SHA-256 of token) keeps the unique key short.
CREATE TABLE IF NOT EXISTS devices (
    id           VARBINARY(64) NOT NULL,
    user_id      VARBINARY(64) NOT NULL,
    platform     VARBINARY(16) NOT NULL,
    token        TEXT          NOT NULL,
    token_hash   VARBINARY(64) NOT NULL,
    subscription TEXT          NULL,
    created_at   BIGINT        NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY devices_token (user_id, platform, token_hash),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;
