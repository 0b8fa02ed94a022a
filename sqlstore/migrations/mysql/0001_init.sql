-- The MySQL/MariaDB schema mirrors migrations/sqlite table for table and key for key.
--
-- Conventions: InnoDB, utf8mb4. Identifiers, keys and hashes are VARBINARY: compared and
-- ordered byte by byte as on SQLite (no case folding, no trailing-space padding, which even
-- utf8mb4_bin applies), and one byte per byte in indexes. Text shown to people is utf8mb4
-- with a binary collation. Times are BIGINT Unix milliseconds. Lengths leave room above the
-- limits the services enforce, and every index stays under InnoDB's 3072-byte key limit.
--
-- Each statement is CREATE TABLE IF NOT EXISTS with its indexes inline, so that a migration
-- interrupted half way (MySQL commits DDL implicitly) completes when it runs again.

-- Accounts. email is stored lower-case; name_lower serves prefix search by name as a byte
-- range.
CREATE TABLE IF NOT EXISTS users (
    id             VARBINARY(64)   NOT NULL,
    email          VARBINARY(1024) NOT NULL,
    name           VARCHAR(255)    NOT NULL,
    name_lower     VARBINARY(1024) NOT NULL,
    status_message VARCHAR(1024)   NOT NULL DEFAULT '',
    password_hash  VARBINARY(512)  NOT NULL DEFAULT '',
    avatar_key     VARBINARY(512)  NOT NULL DEFAULT '',
    verified       TINYINT         NOT NULL DEFAULT 0,
    created_at     BIGINT          NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_email (email),
    KEY users_name_lower (name_lower)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- Pending friend requests; pair_key (the two ids sorted, joined by ":") makes a request
-- unique in both directions.
CREATE TABLE IF NOT EXISTS friend_requests (
    id         VARBINARY(64)  NOT NULL,
    from_id    VARBINARY(64)  NOT NULL,
    to_id      VARBINARY(64)  NOT NULL,
    pair_key   VARBINARY(160) NOT NULL,
    created_at BIGINT         NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY friend_requests_pair (pair_key),
    KEY friend_requests_to (to_id, created_at, id),
    KEY friend_requests_from (from_id, created_at, id),
    FOREIGN KEY (from_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (to_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- Friendships, one row per direction, so that a user's friends are one range scan of the
-- primary key.
CREATE TABLE IF NOT EXISTS friendships (
    user_id   VARBINARY(64) NOT NULL,
    friend_id VARBINARY(64) NOT NULL,
    since     BIGINT        NOT NULL,
    PRIMARY KEY (user_id, friend_id),
    KEY friendships_friend (friend_id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (friend_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

CREATE TABLE IF NOT EXISTS blocks (
    blocker_id VARBINARY(64) NOT NULL,
    blocked_id VARBINARY(64) NOT NULL,
    created_at BIGINT        NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id),
    KEY blocks_blocked (blocked_id),
    FOREIGN KEY (blocker_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (blocked_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- A session is a family of refresh tokens; tokens are kept as hashes only.
CREATE TABLE IF NOT EXISTS sessions (
    id         VARBINARY(64) NOT NULL,
    user_id    VARBINARY(64) NOT NULL,
    created_at BIGINT        NOT NULL,
    expires_at BIGINT        NOT NULL,
    revoked_at BIGINT        NULL,
    PRIMARY KEY (id),
    KEY sessions_user (user_id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

CREATE TABLE IF NOT EXISTS refresh_tokens (
    hash       VARBINARY(128) NOT NULL,
    session_id VARBINARY(64)  NOT NULL,
    expires_at BIGINT         NOT NULL,
    spent_at   BIGINT         NULL,
    PRIMARY KEY (hash),
    KEY refresh_tokens_session (session_id),
    FOREIGN KEY (session_id) REFERENCES sessions (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

CREATE TABLE IF NOT EXISTS verification_codes (
    email      VARBINARY(1024) NOT NULL,
    code_hash  VARBINARY(255)  NOT NULL,
    expires_at BIGINT          NOT NULL,
    attempts   INT             NOT NULL DEFAULT 0,
    sent_at    BIGINT          NOT NULL,
    PRIMARY KEY (email)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;
