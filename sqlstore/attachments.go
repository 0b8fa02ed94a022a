package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/plop-chat/plop"
)

var _ plop.AttachmentStore = (*DB)(nil)

// attachmentCols reads an attachment (att); see scanAttachments.
const attachmentCols = `att.id, att.room_id, att.uploader_id, att.kind, att.name, att.content_type, att.size, att.width, att.height, att.blob_key, att.thumb_key, att.message_seq, att.created_at`

// sqlAttachmentsOf loads the attachments of a range of messages of one room, in message
// order and in each message's order.
const sqlAttachmentsOf = `SELECT ` + attachmentCols + ` FROM attachments att
	WHERE att.room_id = ? AND att.message_seq BETWEEN ? AND ? ORDER BY att.message_seq, att.ordinal`

// scanAttachments runs a query selecting attachmentCols.
func scanAttachments(ctx context.Context, q querier, query string, args ...any) ([]plop.Attachment, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []plop.Attachment
	for rows.Next() {
		var a plop.Attachment
		var seq sql.NullInt64
		var created int64
		if err := rows.Scan(&a.ID, &a.RoomID, &a.UploaderID, &a.Kind, &a.Name, &a.ContentType, &a.Size,
			&a.Width, &a.Height, &a.BlobKey, &a.ThumbnailKey, &seq, &created); err != nil {
			return nil, err
		}
		a.MessageSeq, a.CreatedAt = seq.Int64, fromMS(created)
		out = append(out, a)
	}
	return out, rows.Err()
}

// CreateAttachment stores a, unattached. An empty CreatedAt is now.
func (db *DB) CreateAttachment(ctx context.Context, a *plop.Attachment) error {
	if a.CreatedAt.IsZero() {
		a.CreatedAt = time.Now()
	}
	a.CreatedAt, a.MessageSeq = plop.UTC(a.CreatedAt), 0
	_, err := db.w.ExecContext(ctx, `INSERT INTO attachments
		(id, room_id, uploader_id, kind, name, content_type, size, width, height, blob_key, thumb_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.RoomID, a.UploaderID, a.Kind, a.Name, a.ContentType, a.Size, a.Width, a.Height,
		a.BlobKey, a.ThumbnailKey, ms(a.CreatedAt))
	if err != nil {
		return db.fail("create attachment", err)
	}
	return nil
}

// Attachment returns attachment id of roomID. Returns not_found.
func (db *DB) Attachment(ctx context.Context, roomID, id string) (plop.Attachment, error) {
	list, err := scanAttachments(ctx, db.rq(), `SELECT `+attachmentCols+` FROM attachments att WHERE att.room_id = ? AND att.id = ?`, roomID, id)
	if err != nil {
		return plop.Attachment{}, db.fail("load attachment", err)
	}
	if len(list) == 0 {
		return plop.Attachment{}, notFound("attachment")
	}
	return list[0], nil
}

// UnattachedAttachments returns up to limit attachments no message took, uploaded before
// `before`, oldest first.
func (db *DB) UnattachedAttachments(ctx context.Context, before time.Time, limit int) ([]plop.Attachment, error) {
	list, err := scanAttachments(ctx, db.r, `SELECT `+attachmentCols+` FROM attachments att
		WHERE att.message_seq IS NULL AND att.created_at < ? ORDER BY att.created_at LIMIT ?`,
		ms(before), plop.ClampLimit(limit))
	if err != nil {
		return nil, db.fail("list unattached attachments", err)
	}
	return list, nil
}

// DeleteUnattached deletes attachment id unless a message took it, and reports whether it
// did. The condition is part of the DELETE, so an attachment linked concurrently stays.
func (db *DB) DeleteUnattached(ctx context.Context, id string) (bool, error) {
	res, err := db.w.ExecContext(ctx, `DELETE FROM attachments WHERE id = ? AND message_seq IS NULL`, id)
	if err != nil {
		return false, db.fail("delete attachment", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, db.fail("delete attachment", err)
	}
	return n > 0, nil
}

// errAttachmentIDs is the answer when a message names an attachment it may not take.
func errAttachmentIDs() error {
	return plop.Errorf(plop.EInvalid, "attachment_ids: each must name a file you uploaded to this room that no message carries yet")
}

// linkAttachments gives the attachments ids (in that order) to message seq of m.RoomID,
// inside CreateMessage's transaction. Only attachments of the room, uploaded by the sender and
// not linked yet qualify; the condition is part of the UPDATE, so two messages racing for the
// same attachment cannot both take it (the loser updates fewer rows and rolls back).
func linkAttachments(ctx context.Context, tx *sql.Tx, m *plop.Message, seq int64) error {
	ids := m.AttachmentIDs
	if len(ids) == 0 {
		return nil
	}
	var order strings.Builder
	args := make([]any, 0, 2*len(ids)+3+len(ids))
	args = append(args, seq)
	for i, id := range ids {
		order.WriteString(" WHEN ? THEN ?")
		args = append(args, id, i)
	}
	args = append(args, m.RoomID, m.SenderID)
	for _, id := range ids {
		args = append(args, id)
	}
	res, err := tx.ExecContext(ctx, `UPDATE attachments SET message_seq = ?, ordinal = CASE id`+order.String()+` ELSE 0 END
		WHERE room_id = ? AND uploader_id = ? AND message_seq IS NULL AND id IN (`+placeholders(len(ids))+`)`, args...)
	if err != nil {
		return fmt.Errorf("link attachments: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("link attachments: %w", err)
	}
	if n != int64(len(ids)) {
		return errAttachmentIDs()
	}
	return nil
}

// attachAttachments fills the attachments of msgs, all of roomID and ascending by seq, with
// one query.
func attachAttachments(ctx context.Context, q querier, roomID string, msgs []plop.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	list, err := scanAttachments(ctx, q, sqlAttachmentsOf, roomID, msgs[0].Seq, msgs[len(msgs)-1].Seq)
	if err != nil {
		return fmt.Errorf("load attachments: %w", err)
	}
	fillAttachments(msgs, list)
	return nil
}

// fillAttachments hands each attachment of list (ordered by message and place) to its
// message among msgs.
func fillAttachments(msgs []plop.Message, list []plop.Attachment) {
	if len(list) == 0 {
		return
	}
	byMsg := make(map[msgKey][]plop.Attachment, len(list))
	for _, a := range list {
		k := msgKey{a.RoomID, a.MessageSeq}
		byMsg[k] = append(byMsg[k], a)
	}
	for i := range msgs {
		if as, ok := byMsg[msgKey{msgs[i].RoomID, msgs[i].Seq}]; ok {
			msgs[i].Attachments = as
		}
	}
}

// attachLastAttachments fills the attachments of the rooms' last messages msgs; in is the
// placeholders of args, the room ids.
func attachLastAttachments(ctx context.Context, q querier, msgs []plop.Message, in string, args []any) error {
	list, err := scanAttachments(ctx, q, `SELECT `+attachmentCols+` FROM rooms r
		JOIN attachments att ON att.room_id = r.id AND att.message_seq = r.last_seq
		WHERE r.id IN (`+in+`) ORDER BY att.room_id, att.ordinal`, args...)
	if err != nil {
		return fmt.Errorf("load last attachments: %w", err)
	}
	fillAttachments(msgs, list)
	return nil
}

// deleteMessageAttachments removes the attachments of a message being unsent, inside
// DeleteMessage's transaction. The service deletes their blobs after the commit.
func deleteMessageAttachments(ctx context.Context, tx *sql.Tx, roomID string, seq int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM attachments WHERE room_id = ? AND message_seq = ?`, roomID, seq); err != nil {
		return fmt.Errorf("delete attachments: %w", err)
	}
	return nil
}
