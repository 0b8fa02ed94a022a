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
	return attachLastAttachments(ctx, q, msgs, in, args)
}
