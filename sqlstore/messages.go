package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/plop-chat/plop"
)

var _ plop.MessageStore = (*DB)(nil)

// The statements of CreateMessage, prepared on the writer when the database opens. The
// statement that takes the next seq is the dialect's (nextSeq).
const (
	sqlLastSeq       = `SELECT last_seq FROM rooms WHERE id = ?`
	sqlInsertMessage = `INSERT INTO messages (id, room_id, seq, sender_id, body, client_msg_id, reply_to_seq, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
	sqlSenderRead    = `UPDATE room_members SET last_read_seq = ? WHERE room_id = ? AND user_id = ? AND last_read_seq < ?`
	sqlSeqByClientID = `SELECT seq FROM messages WHERE room_id = ? AND sender_id = ? AND client_msg_id = ?`
	sqlMessage       = `SELECT ` + messageCols + ` FROM messages msg WHERE msg.room_id = ? AND msg.seq = ?`
	sqlReactionsOf   = `SELECT room_id, seq, user_id, emoji FROM message_reactions WHERE room_id = ? AND seq BETWEEN ? AND ? ORDER BY id`
)

// hotWrites are the statements prepared on the writer at Open (statements cannot be
// prepared on the single-connection SQLite writer from inside a transaction).
func (db *DB) hotWrites() []string {
	qs := []string{db.d.nextSeq, sqlLastSeq, sqlInsertMessage, sqlQueuePush, sqlSenderRead, sqlSeqByClientID, sqlMessage, sqlReactionsOf}
	if db.d == sqliteDialect {
		// The savepoints of a batch (groupcommit.go); on MySQL they run unprepared.
		qs = append(qs, sqlSavepoint, sqlRollbackSavepoint, sqlReleaseSavepoint)
	}
	return qs
}

// messageCols reads a message (msg); see scanMessages.
const messageCols = `msg.id, msg.room_id, msg.seq, msg.sender_id, msg.body, msg.client_msg_id, msg.reply_to_seq, msg.created_at, msg.edited_at, msg.deleted_at`

// scanMessages runs a query selecting messageCols and returns the messages with empty,
// non-nil Reactions and Attachments.
func (db *DB) scanMessages(ctx context.Context, q querier, query string, args ...any) ([]plop.Message, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []plop.Message{}
	for rows.Next() {
		var m plop.Message
		var clientID sql.NullString
		var replyTo, edited, deleted sql.NullInt64
		var created int64
		if err := rows.Scan(&m.ID, &m.RoomID, &m.Seq, &m.SenderID, &m.Body, &clientID, &replyTo, &created, &edited, &deleted); err != nil {
			return nil, err
		}
		m.ClientMsgID = clientID.String
		if replyTo.Valid {
			m.ReplyTo = &replyTo.Int64
		}
		m.CreatedAt, m.EditedAt, m.Deleted = fromMS(created), timePtr(edited), deleted.Valid
		m.Reactions, m.Attachments = []plop.Reaction{}, []plop.Attachment{}
		out = append(out, m)
	}
	return out, rows.Err()
}

// loadMessage returns one message with its reactions.
func (db *DB) loadMessage(ctx context.Context, q querier, roomID string, seq int64) (plop.Message, error) {
	msgs, err := db.scanMessages(ctx, q, sqlMessage, roomID, seq)
	if err != nil {
		return plop.Message{}, err
	}
	if len(msgs) == 0 {
		return plop.Message{}, notFound("message")
	}
	if err := attachReactions(ctx, q, roomID, msgs); err != nil {
		return plop.Message{}, err
	}
	if err := attachAttachments(ctx, q, roomID, msgs); err != nil {
		return plop.Message{}, err
	}
	return msgs[0], nil
}

// CreateMessage stores m with the room's next seq, advancing the room's last seq and activity
// time and the sender's read pointer, in one transaction. A repeated (sender, ClientMsgID) in
// the room stores nothing and returns the first message with created false. An empty ID is
// filled in. Returns not_found when the room does not exist.
//
// The transaction is shared with the messages other callers send at the same time (see
// groupcommit.go); CreateMessage returns once it has committed.
func (db *DB) CreateMessage(ctx context.Context, m *plop.Message) (plop.Message, bool, error) {
	if m.ClientMsgID != "" {
		// The common retry path: answer from a reader without queuing for the writer.
		if prev, err := db.messageByClientID(ctx, db.rq(), m); err == nil {
			return prev, false, nil
		} else if plop.ErrorCode(err) != plop.ENotFound {
			return plop.Message{}, false, db.fail("create message", err)
		}
	}
	if m.ID == "" {
		m.ID = uuid.Must(uuid.NewV7()).String()
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = time.Now()
	}
	r := &sendReq{m: m, created: plop.UTC(m.CreatedAt), done: make(chan struct{})}
	if err := db.gc.submit(ctx, r); err != nil {
		return plop.Message{}, false, db.fail("create message", err)
	}
	if r.dup {
		// A concurrent retry, or one earlier in the same batch, won the race on the
		// idempotency key; it has committed by now.
		if p, err := db.messageByClientID(ctx, db.rq(), m); err == nil {
			return p, false, nil
		}
	}
	if r.err != nil {
		return plop.Message{}, false, db.fail("create message", r.err)
	}
	stored := plop.Message{
		ID: m.ID, RoomID: m.RoomID, Seq: r.seq, SenderID: m.SenderID, Body: m.Body, ClientMsgID: m.ClientMsgID,
		ReplyTo: m.ReplyTo, CreatedAt: r.created, Reactions: []plop.Reaction{}, Attachments: []plop.Attachment{},
	}
	if len(m.AttachmentIDs) > 0 {
		msgs := []plop.Message{stored}
		if err := attachAttachments(ctx, db.rq(), m.RoomID, msgs); err != nil {
			return plop.Message{}, false, db.fail("create message", err)
		}
		stored = msgs[0]
	}
	return stored, true, nil
}

// messageByClientID returns the message m.SenderID sent to m.RoomID with m.ClientMsgID.
func (db *DB) messageByClientID(ctx context.Context, q querier, m *plop.Message) (plop.Message, error) {
	var seq int64
	err := q.QueryRowContext(ctx, sqlSeqByClientID,
		m.RoomID, m.SenderID, m.ClientMsgID).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return plop.Message{}, notFound("message")
	}
	if err != nil {
		return plop.Message{}, err
	}
	return db.loadMessage(ctx, q, m.RoomID, seq)
}

// Message returns one message by seq. Returns not_found.
func (db *DB) Message(ctx context.Context, roomID string, seq int64) (plop.Message, error) {
	var m plop.Message
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = db.loadMessage(ctx, cachedQuerier{c: &db.rc, tx: tx}, roomID, seq)
		return err
	})
	if err != nil {
		return plop.Message{}, db.fail(fmt.Sprintf("load message %d", seq), err)
	}
	return m, nil
}

// Messages returns up to limit messages ascending by seq: the latest ones before `before`
// when before > 0 (and after `after` if that is set too), the earliest ones after `after`
// when only after > 0, else the latest ones.
func (db *DB) Messages(ctx context.Context, roomID string, before, after int64, limit int) ([]plop.Message, error) {
	limit = plop.ClampLimit(limit)
	q := `SELECT ` + messageCols + ` FROM messages msg WHERE msg.room_id = ?`
	args := []any{roomID}
	if before > 0 {
		q += ` AND msg.seq < ?`
		args = append(args, before)
	}
	if after > 0 {
		q += ` AND msg.seq > ?`
		args = append(args, after)
	}
	descending := before > 0 || after <= 0
	if descending {
		q += ` ORDER BY msg.seq DESC LIMIT ?`
	} else {
		q += ` ORDER BY msg.seq ASC LIMIT ?`
	}
	args = append(args, limit)
	var msgs []plop.Message
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		rtx := cachedQuerier{c: &db.rc, tx: tx} // q is one of a few fixed texts
		msgs, err = db.scanMessages(ctx, rtx, q, args...)
		if err != nil {
			return err
		}
		if descending {
			slices.Reverse(msgs)
		}
		if err := attachAttachments(ctx, rtx, roomID, msgs); err != nil {
			return err
		}
		return attachReactions(ctx, rtx, roomID, msgs)
	})
	if err != nil {
		return nil, db.fail("list messages", err)
	}
	return msgs, nil
}

// EditMessage replaces the body and sets EditedAt. Returns not_found.
func (db *DB) EditMessage(ctx context.Context, roomID string, seq int64, body string, now time.Time) (plop.Message, error) {
	var m plop.Message
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET body = ?, edited_at = ? WHERE room_id = ? AND seq = ?`, body, ms(now), roomID, seq)
		if err := affected(res, err, "message"); err != nil {
			return err
		}
		m, err = db.loadMessage(ctx, tx, roomID, seq)
		return err
	})
	if err != nil {
		return plop.Message{}, db.fail(fmt.Sprintf("edit message %d", seq), err)
	}
	return m, nil
}

// DeleteMessage marks the message deleted and clears its body, reactions and attachments. Deleting twice
// keeps the first deletion. Returns not_found.
func (db *DB) DeleteMessage(ctx context.Context, roomID string, seq int64, now time.Time) (plop.Message, error) {
	var m plop.Message
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE messages SET body = '', deleted_at = COALESCE(deleted_at, ?) WHERE room_id = ? AND seq = ?`,
			ms(now), roomID, seq)
		if err := affected(res, err, "message"); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_reactions WHERE room_id = ? AND seq = ?`, roomID, seq); err != nil {
			return err
		}
		if err := deleteMessageAttachments(ctx, tx, roomID, seq); err != nil {
			return err
		}
		m, err = db.loadMessage(ctx, tx, roomID, seq)
		return err
	})
	if err != nil {
		return plop.Message{}, db.fail(fmt.Sprintf("delete message %d", seq), err)
	}
	return m, nil
}
