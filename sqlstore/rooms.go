package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/plop-chat/plop"
)

var _ plop.RoomStore = (*DB)(nil)

// roomCols reads a room (r) as seen by one member (m); see scanRoom.
const roomCols = `r.id, r.type, r.name, r.created_by, r.direct_key, r.last_seq, r.created_at, r.updated_at, m.last_read_seq, m.muted`

func scanRoom(s scanner) (plop.Room, error) {
	var r plop.Room
	var direct sql.NullString
	var created, updated, lastRead int64
	err := s.Scan(&r.ID, &r.Type, &r.Name, &r.CreatedBy, &direct, &r.LastSeq, &created, &updated, &lastRead, &r.Muted)
	r.DirectKey = direct.String
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	r.UnreadCount = max(0, r.LastSeq-lastRead)
	r.Members = []plop.Member{}
	return r, err
}

// CreateRoom stores r with its members. An empty ID is filled in. For a direct room whose
// DirectKey exists already it stores nothing and returns the existing room's id.
func (db *DB) CreateRoom(ctx context.Context, r *plop.Room) (string, bool, error) {
	if r.ID == "" {
		r.ID = uuid.Must(uuid.NewV7()).String()
	}
	if r.CreatedAt.IsZero() {
		r.CreatedAt = time.Now()
	}
	if r.UpdatedAt.IsZero() {
		r.UpdatedAt = r.CreatedAt
	}
	var direct any
	if r.DirectKey != "" {
		direct = r.DirectKey
	}
	existing := ""
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if r.DirectKey != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM rooms WHERE direct_key = ?`, r.DirectKey).Scan(&existing)
			if err == nil {
				return nil
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO rooms (id, type, name, created_by, direct_key, last_seq, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, ?, ?)`,
			r.ID, r.Type, r.Name, r.CreatedBy, direct, ms(r.CreatedAt), ms(r.UpdatedAt)); err != nil {
			return err
		}
		if len(r.Members) == 0 {
			return nil
		}
		args := make([]any, 0, 4*len(r.Members))
		values := ""
		for i, m := range r.Members {
			if i > 0 {
				values += ", "
			}
			values += "(?, ?, ?, ?, 0, 0)"
			role, joined := m.Role, m.JoinedAt
			if role == "" {
				role = plop.RoleMember
			}
			if joined.IsZero() {
				joined = r.CreatedAt
			}
			args = append(args, r.ID, m.UserID, role, ms(joined))
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO room_members (room_id, user_id, role, joined_at, last_read_seq, muted) VALUES `+values, args...)
		return err
	})
	if err != nil && r.DirectKey != "" && db.d.isUnique(err) {
		// Another node created the pair's room first.
		if e := db.w.QueryRowContext(ctx, `SELECT id FROM rooms WHERE direct_key = ?`, r.DirectKey).Scan(&existing); e == nil {
			return existing, false, nil
		}
	}
	if err != nil {
		if db.d.isUnique(err) {
			return "", false, plop.Errorf(plop.EConflict, "room already exists")
		}
		return "", false, db.fail("create room", err)
	}
	if existing != "" {
		return existing, false, nil
	}
	return r.ID, true, nil
}

// Room returns the room as seen by userID. Returns not_found when the room does not exist or
// userID is not a member.
func (db *DB) Room(ctx context.Context, roomID, userID string) (plop.Room, error) {
	var room plop.Room
	err := db.readTx(ctx, func(tx *sql.Tx) error {
		var err error
		room, err = scanRoom(tx.QueryRowContext(ctx, `SELECT `+roomCols+`
			FROM rooms r JOIN room_members m ON m.room_id = r.id AND m.user_id = ? WHERE r.id = ?`, userID, roomID))
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("room")
		}
		if err != nil {
			return err
		}
		rooms := []plop.Room{room}
		err = db.fillRooms(ctx, tx, rooms)
		room = rooms[0]
		return err
	})
	if err != nil {
		return plop.Room{}, db.fail("load room", err)
	}
	return room, nil
}

// Rooms lists the rooms of userID, latest activity first, after cursor; it returns the next
// cursor, "" on the last page. A page costs four queries whatever its size.
func (db *DB) Rooms(ctx context.Context, userID, cursor string, limit int) ([]plop.Room, string, error) {
	ct, cid, hasCursor, err := decodeCursor(cursor)
	if err != nil {
		return nil, "", err
	}
	limit = plop.ClampLimit(limit)
	q := `SELECT ` + roomCols + ` FROM room_members m JOIN rooms r ON r.id = m.room_id WHERE m.user_id = ?`
	args := []any{userID}
	if hasCursor {
		q += ` AND (r.updated_at < ? OR (r.updated_at = ? AND r.id < ?))`
		args = append(args, ct, ct, cid)
	}
	q += ` ORDER BY r.updated_at DESC, r.id DESC LIMIT ?`
	args = append(args, limit+1)

	rooms := []plop.Room{}
	more := false
	err = db.readTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			r, err := scanRoom(rows)
			if err != nil {
				rows.Close()
				return err
			}
			rooms = append(rooms, r)
		}
		if err := rows.Close(); err != nil {
			return err
		}
		if err := rows.Err(); err != nil {
			return err
		}
		if len(rooms) > limit {
			rooms, more = rooms[:limit], true
		}
		return db.fillRooms(ctx, tx, rooms)
	})
	if err != nil {
		return nil, "", db.fail("list rooms", err)
	}
	next := ""
	if more {
		last := rooms[len(rooms)-1]
		next = encodeCursor(ms(last.UpdatedAt), last.ID)
	}
	return rooms, next, nil
}

// readTx runs fn in a read-only transaction on the readers, so that the several queries of
// one answer see one snapshot.
func (db *DB) readTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// fillRooms loads the members (with their public users) and the last message (with its
// reactions) of every room in rooms: three queries whatever the number of rooms.
func (db *DB) fillRooms(ctx context.Context, q querier, rooms []plop.Room) error {
	if len(rooms) == 0 {
		return nil
	}
	index := make(map[string]int, len(rooms))
	args := make([]any, len(rooms))
	for i, r := range rooms {
		index[r.ID] = i
		args[i] = r.ID
	}
	in := placeholders(len(rooms))

	rows, err := q.QueryContext(ctx, `SELECT m.room_id, m.user_id, m.role, m.joined_at, m.last_read_seq, m.muted, `+publicUserCols+`
		FROM room_members m JOIN users u ON u.id = m.user_id
		WHERE m.room_id IN (`+in+`) ORDER BY m.room_id, m.joined_at, m.user_id`, args...)
	if err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	for rows.Next() {
		var roomID string
		var m plop.Member
		var joined, created int64
		u := new(plop.User)
		dest := append([]any{&roomID, &m.UserID, &m.Role, &joined, &m.LastReadSeq, &m.Muted}, publicUserDest(u, &created)...)
		if err := rows.Scan(dest...); err != nil {
			rows.Close()
			return fmt.Errorf("load members: %w", err)
		}
		m.JoinedAt, u.CreatedAt = fromMS(joined), fromMS(created)
		m.User = u
		i := index[roomID]
		rooms[i].Members = append(rooms[i].Members, m)
	}
	if err := rows.Close(); err != nil {
		return fmt.Errorf("load members: %w", err)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load members: %w", err)
	}

	msgs, err := db.scanMessages(ctx, q, `SELECT `+messageCols+` FROM rooms r JOIN messages msg ON msg.room_id = r.id AND msg.seq = r.last_seq
		WHERE r.id IN (`+in+`)`, args...)
	if err != nil {
		return fmt.Errorf("load last messages: %w", err)
	}
	if len(msgs) == 0 {
		return nil
	}
	reactions, err := loadReactions(ctx, q, `SELECT x.room_id, x.seq, x.user_id, x.emoji
		FROM rooms r JOIN message_reactions x ON x.room_id = r.id AND x.seq = r.last_seq
		WHERE r.id IN (`+in+`) ORDER BY x.id`, args...)
	if err != nil {
		return fmt.Errorf("load last messages: %w", err)
	}
	for i := range msgs {
		m := &msgs[i]
		if rs, ok := reactions[msgKey{m.RoomID, m.Seq}]; ok {
			m.Reactions = rs
		}
		rooms[index[m.RoomID]].LastMessage = m
	}
	return nil
}

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
	added := []plop.Member{}
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var lastSeq int64
		err := tx.QueryRowContext(ctx, `SELECT last_seq FROM rooms WHERE id = ?`, roomID).Scan(&lastSeq)
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
		res, err := tx.ExecContext(ctx, `DELETE FROM room_members WHERE room_id = ? AND user_id = ?`, roomID, userID)
		if err := affected(res, err, "member"); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE rooms SET updated_at = ? WHERE id = ?`, ms(now), roomID)
		return err
	})
	return db.fail("remove member", err)
}

// MarkRead moves userID's read pointer in roomID up to seq, never down and never past the
// room's last seq, and returns the pointer after the move. Returns not_found when userID is
// not a member.
func (db *DB) MarkRead(ctx context.Context, roomID, userID string, seq int64) (int64, error) {
	var ptr int64
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var lastSeq int64
		err := tx.QueryRowContext(ctx, `SELECT m.last_read_seq, r.last_seq FROM room_members m JOIN rooms r ON r.id = m.room_id
			WHERE m.room_id = ? AND m.user_id = ?`, roomID, userID).Scan(&ptr, &lastSeq)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("member")
		}
		if err != nil {
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
		ptr = target
		return nil
	})
	if err != nil {
		return 0, db.fail("mark read", err)
	}
	return ptr, nil
}
