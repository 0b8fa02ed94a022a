-- The push outbox. CreateMessage queues one job per message in the message's own
-- transaction. A push worker claims jobs by writing its claim token to lease_owner and moving
-- available_at to the end of its lease (a claim that dies is taken over after it); it then
-- deletes the job and folds the message into push_pending in one transaction. No index but
-- the primary key: jobs live for milliseconds, and the send path pays for every index.
CREATE TABLE push_jobs (
    id           INTEGER NOT NULL PRIMARY KEY,
    room_id      TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    available_at INTEGER NOT NULL,
    lease_owner  TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0
);

-- One pending notification per (user, room): unread counts the messages folded in since the
-- user last read the room, last_seq is the newest of them and sent_seq the newest already
-- pushed. due_at is when it is to be sent (NULL: nothing to send), or the end of the lease
-- of the worker sending it; sent_at is when it was last pushed (0: never).
CREATE TABLE push_pending (
    id          INTEGER NOT NULL PRIMARY KEY,
    user_id     TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    room_id     TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    unread      INTEGER NOT NULL,
    last_seq    INTEGER NOT NULL,
    sent_seq    INTEGER NOT NULL DEFAULT 0,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    due_at      INTEGER,
    sent_at     INTEGER NOT NULL DEFAULT 0,
    lease_owner TEXT,
    attempts    INTEGER NOT NULL DEFAULT 0,
    UNIQUE (user_id, room_id)
);
CREATE INDEX push_pending_due ON push_pending (due_at);
CREATE INDEX push_pending_room ON push_pending (room_id);
