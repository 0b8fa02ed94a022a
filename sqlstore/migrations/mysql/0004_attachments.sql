-- Images and files uploaded to a room. message_seq is NULL until a message takes the
-- attachment (CreateMessage links it in the message's transaction, setting ordinal to its
-- place in the message); uploads that no message took are swept after a while. The bytes
-- live in the blob store under blob_key (and thumb_key, for an image's thumbnail). name holds
-- up to 255 bytes of UTF-8.
CREATE TABLE IF NOT EXISTS attachments (
    id           VARBINARY(64)  NOT NULL,
    room_id      VARBINARY(64)  NOT NULL,
    uploader_id  VARBINARY(64)  NOT NULL,
    kind         VARBINARY(16)  NOT NULL,
    name         VARCHAR(255)   NOT NULL,
    content_type VARCHAR(255)   NOT NULL,
    size         BIGINT         NOT NULL,
    width        INT            NOT NULL DEFAULT 0,
    height       INT            NOT NULL DEFAULT 0,
    blob_key     VARBINARY(512) NOT NULL,
    thumb_key    VARBINARY(512) NOT NULL DEFAULT '',
    message_seq  BIGINT         NULL,
    ordinal      INT            NOT NULL DEFAULT 0,
    created_at   BIGINT         NOT NULL,
    PRIMARY KEY (id),
    KEY attachments_message (room_id, message_seq, ordinal),
    KEY attachments_unattached (message_seq, created_at),
    FOREIGN KEY (room_id) REFERENCES rooms (id) ON DELETE CASCADE,
    FOREIGN KEY (room_id, message_seq) REFERENCES messages (room_id, seq) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin ROW_FORMAT = DYNAMIC;
