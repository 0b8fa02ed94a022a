-- The push outbox. CreateMessage queues one job per message in the message's own
-- transaction. A push worker claims jobs by writing its claim token to lease_owner and moving
-- available_at to the end of its lease (a claim that dies is taken over after it); it then
-- deletes the job and folds the message into push_pending in one transaction. No index but
-- the primary key: jobs live for milliseconds, and the send path pays for every index.
CREATE TABLE IF NOT EXISTS push_jobs (
    id           BIGINT        NOT NULL AUTO_INCREMENT,
    room_id      VARBINARY(64) NOT NULL,
    seq          BIGINT        NOT NULL,
    created_at   BIGINT        NOT NULL,
    available_at BIGINT        NOT NULL,
    lease_owner  VARBINARY(64) NULL,
    attempts     INT           NOT NULL DEFAULT 0,
    PRIMARY KEY (id)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;

-- One pending notification per (user, room): unread counts the messages folded in since the
-- user last read the room, last_seq is the newest of them and sent_seq the newest already
-- pushed. due_at is when it is to be sent (NULL: nothing to send), or the end of the lease
-- of the worker sending it; sent_at is when it was last pushed (0: never).
CREATE TABLE IF NOT EXISTS push_pending (
    id          BIGINT        NOT NULL AUTO_INCREMENT,
    user_id     VARBINARY(64) NOT NULL,
    room_id     VARBINARY(64) NOT NULL,
    unread      INT           NOT NULL,
    last_seq    BIGINT        NOT NULL,
    sent_seq    BIGINT        NOT NULL DEFAULT 0,
    title       TEXT          NOT NULL,
    body        TEXT          NOT NULL,
    due_at      BIGINT        NULL,
    sent_at     BIGINT        NOT NULL DEFAULT 0,
    lease_owner VARBINARY(64) NULL,
    attempts    INT           NOT NULL DEFAULT 0,
    PRIMARY KEY (id),
    UNIQUE KEY push_pending_user_room (user_id, room_id),
    KEY push_pending_due (due_at),
    KEY push_pending_room (room_id),
    FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE,
    FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;
