package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/plop-chat/plop"
)

// Member returns the membership of userID in roomID; not_found if not a member.
func (db *DB) Member(ctx context.Context, roomID, userID string) (plop.Member, error) {
	var m plop.Member
	var joined int64
	err := db.rq().QueryRowContext(ctx, `SELECT user_id, role, joined_at, last_read_seq, muted FROM room_members WHERE room_id = ? AND user_id = ?`,
		roomID, userID).Scan(&m.UserID, &m.Role, &joined, &m.LastReadSeq, &m.Muted)
	if errors.Is(err, sql.ErrNoRows) {
		return m, notFound("member")
	}
	if err != nil {
		return m, db.fail("load member", err)
	}
	m.JoinedAt = fromMS(joined)
	return m, nil
}

// MemberIDs returns the ids of the room's members, in the order they joined.
func (db *DB) MemberIDs(ctx context.Context, roomID string) ([]string, error) {
	rows, err := db.rq().QueryContext(ctx, `SELECT user_id FROM room_members WHERE room_id = ? ORDER BY joined_at, user_id`, roomID)
	if err != nil {
		return nil, db.fail("list member ids", err)
	}
	defer rows.Close()
	ids := []string{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, db.fail("list member ids", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list member ids", err)
	}
	return ids, nil
}

// UpdateRoom changes the room's name (nil: unchanged) and userID's mute flag (nil:
// unchanged), and touches UpdatedAt when the name changed. Returns not_found for a missing
// room, or when muted is set and userID is not a member.
func (db *DB) UpdateRoom(ctx context.Context, roomID, userID string, name *string, muted *bool, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if name != nil {
			res, err := tx.ExecContext(ctx, `UPDATE rooms SET name = ?, updated_at = ? WHERE id = ?`, *name, ms(now), roomID)
			if err := affected(res, err, "room"); err != nil {
				return err
			}
		} else {
			var n int
			if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM rooms WHERE id = ?`, roomID).Scan(&n); err != nil {
				return err
			}
			if n == 0 {
				return notFound("room")
			}
		}
		if muted != nil {
			res, err := tx.ExecContext(ctx, `UPDATE room_members SET muted = ? WHERE room_id = ? AND user_id = ?`, *muted, roomID, userID)
			return affected(res, err, "member")
		}
		return nil
	})
	return db.fail("update room", err)
}

// affected turns an Exec result that touched no row into not_found(what).
func affected(res sql.Result, err error, what string) error {
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return notFound(what)
	}
	return nil
}

// AddMembers adds the members that are not members yet and returns those added. New
// members start with everything before their arrival read. Returns not_found for a missing
// room.
func (db *DB) AddMembers(ctx context.Context, roomID string, members []plop.Member, now time.Time) ([]plop.Member, error) {
	var added []plop.Member
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		added = []plop.Member{}
		// Lock the room first (lock order: room, then members); new members start at the
		// latest committed last_seq.
		var lastSeq int64
		err := tx.QueryRowContext(ctx, `SELECT last_seq FROM rooms WHERE id = ?`+db.d.forUpdate, roomID).Scan(&lastSeq)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("room")
		}
		if err != nil {
			return err
		}
		for _, m := range members {
			if m.Role == "" {
				m.Role = plop.RoleMember
			}
			if m.JoinedAt.IsZero() {
				m.JoinedAt = now
			}
			m.JoinedAt = plop.UTC(m.JoinedAt)
			m.LastReadSeq, m.Muted, m.User = lastSeq, false, nil
			res, err := tx.ExecContext(ctx, db.d.insertIgnore+` INTO room_members (room_id, user_id, role, joined_at, last_read_seq, muted) VALUES (?, ?, ?, ?, ?, 0)`,
				roomID, m.UserID, m.Role, ms(m.JoinedAt), lastSeq)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n > 0 {
				added = append(added, m)
			}
		}
		if len(added) > 0 {
			_, err = tx.ExecContext(ctx, `UPDATE rooms SET updated_at = ? WHERE id = ?`, ms(now), roomID)
		}
		return err
	})
	if err != nil {
		return nil, db.fail("add members", err)
	}
	return added, nil
}

// RemoveMember removes userID from the room and touches its UpdatedAt. Returns not_found
// when userID is not a member.
func (db *DB) RemoveMember(ctx context.Context, roomID, userID string, now time.Time) error {
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// The room first, then the member: the lock order of CreateMessage. A missing
		// member rolls the touch back.
		if _, err := tx.ExecContext(ctx, `UPDATE rooms SET updated_at = ? WHERE id = ?`, ms(now), roomID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID)
		return affected(res, err, "member")
	})
	return db.fail("remove member", err)
}

// MarkRead moves userID's read pointer in roomID up to seq, never down and never past the
// room's last seq, and returns the pointer after the move; the user's pending push
// notification about the room is cleared up to the pointer in the same transaction. Returns
// not_found when userID is not a member.
func (db *DB) MarkRead(ctx context.Context, roomID, userID string, seq int64) (int64, error) {
	var ptr int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		// Lock the member row only: two nodes moving one pointer take turns, while the
		// room row stays free for senders (its last_seq may be a moment old; that bound is
		// still a seq that exists).
		err := tx.QueryRowContext(ctx, `SELECT last_read_seq FROM room_members WHERE room_id = ? AND user_id = ?`+db.d.forUpdate,
			roomID, userID).Scan(&ptr)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("member")
		}
		if err != nil {
			return err
		}
		var lastSeq int64
		if err := tx.QueryRowContext(ctx, `SELECT last_seq FROM rooms WHERE id = ?`, roomID).Scan(&lastSeq); err != nil {
			return err
		}
		target := min(seq, lastSeq)
		if target <= ptr {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE room_members SET last_read_seq = ? WHERE room_id = ? AND user_id = ? AND last_read_seq < ?`,
			target, roomID, userID, target); err != nil {
			return err
		}
		if err := clearPendingPush(ctx, tx, roomID, userID, target); err != nil {
			return err
		}
		ptr = target
		return nil
	})
	if err != nil {
		return 0, db.fail("mark read", err)
	}
	return ptr, nil
}
