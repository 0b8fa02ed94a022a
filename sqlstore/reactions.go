package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/plop-chat/plop"
)

// msgKey names one message.
type msgKey struct {
	room string
	seq  int64
}

// loadReactions runs a query selecting (room_id, seq, user_id, emoji) ordered by reaction id
// and groups it per message: emojis in order of first use, users in order of reacting.
func loadReactions(ctx context.Context, q querier, query string, args ...any) (map[msgKey][]plop.Reaction, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[msgKey][]plop.Reaction{}
	for rows.Next() {
		var k msgKey
		var user, emoji string
		if err := rows.Scan(&k.room, &k.seq, &user, &emoji); err != nil {
			return nil, err
		}
		rs := out[k]
		i := 0
		for i < len(rs) && rs[i].Emoji != emoji {
			i++
		}
		if i == len(rs) {
			rs = append(rs, plop.Reaction{Emoji: emoji})
		}
		rs[i].UserIDs = append(rs[i].UserIDs, user)
		rs[i].Count++
		out[k] = rs
	}
	return out, rows.Err()
}

// attachReactions fills the reactions of msgs, all of roomID and ascending by seq, with one
// query.
func attachReactions(ctx context.Context, q querier, roomID string, msgs []plop.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	reactions, err := loadReactions(ctx, q, sqlReactionsOf, roomID, msgs[0].Seq, msgs[len(msgs)-1].Seq)
	if err != nil {
		return fmt.Errorf("load reactions: %w", err)
	}
	for i := range msgs {
		if rs, ok := reactions[msgKey{roomID, msgs[i].Seq}]; ok {
			msgs[i].Reactions = rs
		}
	}
	return nil
}

// SetReaction adds (on) or removes userID's emoji on a message and returns the message's
// reactions after the change. Returns not_found for a missing message.
func (db *DB) SetReaction(ctx context.Context, roomID string, seq int64, userID, emoji string, on bool, now time.Time) ([]plop.Reaction, error) {
	var out []plop.Reaction
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM messages WHERE room_id = ? AND seq = ?`, roomID, seq).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return notFound("message")
		}
		var err error
		if on {
			_, err = tx.ExecContext(ctx, db.d.insertIgnore+` INTO message_reactions (room_id, seq, user_id, emoji, created_at) VALUES (?, ?, ?, ?, ?)`,
				roomID, seq, userID, emoji, ms(now))
		} else {
			_, err = tx.ExecContext(ctx, `DELETE FROM message_reactions WHERE room_id = ? AND seq = ? AND user_id = ? AND emoji = ?`,
				roomID, seq, userID, emoji)
		}
		if err != nil {
			return err
		}
		rs, err := loadReactions(ctx, tx, `SELECT room_id, seq, user_id, emoji FROM message_reactions WHERE room_id = ? AND seq = ? ORDER BY id`, roomID, seq)
		if err != nil {
			return err
		}
		out = rs[msgKey{roomID, seq}]
		return nil
	})
	if err != nil {
		return nil, db.fail("set reaction", err)
	}
	if out == nil {
		out = []plop.Reaction{}
	}
	return out, nil
}
