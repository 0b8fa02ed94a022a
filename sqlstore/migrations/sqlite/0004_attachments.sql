-- Images and files uploaded to a room. message_seq is NULL until a message takes the
-- attachment (CreateMessage links it in the message's transaction, setting ordinal to its
-- place in the message); uploads that no message took are swept after a while. The bytes
-- live in the blob store under blob_key (and thumb_key, for an image's thumbnail).
CREATE TABLE attachments (
    id           TEXT    NOT NULL PRIMARY KEY,
    room_id      TEXT    NOT NULL REFERENCES rooms (id) ON DELETE CASCADE,
    uploader_id  TEXT    NOT NULL,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    width        INTEGER NOT NULL DEFAULT 0,
    height       INTEGER NOT NULL DEFAULT 0,
    blob_key     TEXT    NOT NULL,
    thumb_key    TEXT    NOT NULL DEFAULT '',
    message_seq  INTEGER,
    ordinal      INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    FOREIGN KEY (room_id, message_seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
);
-- A page of history loads its attachments with one range scan of this index.
CREATE INDEX attachments_message ON attachments (room_id, message_seq, ordinal);
-- The sweep of unattached uploads.
CREATE INDEX attachments_unattached ON attachments (created_at) WHERE message_seq IS NULL;
