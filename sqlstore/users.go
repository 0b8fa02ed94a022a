package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/plop-chat/plop"
)

var _ plop.UserStore = (*DB)(nil)

// userCols are the columns scanUser reads, in order.
const userCols = `id, email, name, status_message, password_hash, avatar_key, verified, created_at`

// publicUserCols are the columns scanPublicUser reads: no e-mail, no password hash.
const publicUserCols = `u.id, u.name, u.status_message, u.avatar_key, u.verified, u.created_at`

type scanner interface{ Scan(dest ...any) error }

func scanUser(s scanner) (plop.User, error) {
	var u plop.User
	var created int64
	err := s.Scan(&u.ID, &u.Email, &u.Name, &u.StatusMessage, &u.PasswordHash, &u.AvatarKey, &u.Verified, &created)
	u.CreatedAt = fromMS(created)
	return u, err
}

// publicUserDest returns scan destinations for publicUserCols into u, the creation time
// into created (convert it with fromMS after the scan).
func publicUserDest(u *plop.User, created *int64) []any {
	return []any{&u.ID, &u.Name, &u.StatusMessage, &u.AvatarKey, &u.Verified, created}
}

// CreateUser stores u. Returns conflict when the e-mail is taken.
func (db *DB) CreateUser(ctx context.Context, u *plop.User) error {
	email := strings.ToLower(u.Email)
	_, err := db.w.ExecContext(ctx, `INSERT INTO users (id, email, name, name_lower, status_message, password_hash, avatar_key, verified, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		u.ID, email, u.Name, strings.ToLower(u.Name), u.StatusMessage, u.PasswordHash, u.AvatarKey, u.Verified, ms(u.CreatedAt))
	if err != nil {
		if db.d.isUnique(err) {
			var n int
			if e := db.w.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE id = ?`, u.ID).Scan(&n); e == nil && n > 0 {
				return plop.Errorf(plop.EConflict, "user id is taken")
			}
			return plop.Errorf(plop.EConflict, "e-mail address is already registered")
		}
		return db.fail("create user", err)
	}
	u.Email = email
	u.CreatedAt = plop.UTC(u.CreatedAt)
	return nil
}

// UserByID returns not_found when there is no such user.
func (db *DB) UserByID(ctx context.Context, id string) (plop.User, error) {
	return db.userWhere(ctx, db.rq(), "id = ?", id)
}

// UserByEmail looks up a lower-case e-mail. Returns not_found.
func (db *DB) UserByEmail(ctx context.Context, email string) (plop.User, error) {
	return db.userWhere(ctx, db.rq(), "email = ?", strings.ToLower(email))
}

func (db *DB) userWhere(ctx context.Context, q querier, where string, arg any) (plop.User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return plop.User{}, notFound("user")
	}
	if err != nil {
		return plop.User{}, db.fail("load user", err)
	}
	return u, nil
}

// maxInList bounds the number of values in one IN (...) list.
const maxInList = 500

// UsersByIDs returns the users that exist among ids, in no particular order.
func (db *DB) UsersByIDs(ctx context.Context, ids []string) ([]plop.User, error) {
	out := make([]plop.User, 0, len(ids))
	for start := 0; start < len(ids); start += maxInList {
		chunk := ids[start:min(start+maxInList, len(ids))]
		args := make([]any, len(chunk))
		for i, id := range chunk {
			args[i] = id
		}
		rows, err := db.r.QueryContext(ctx, `SELECT `+userCols+` FROM users WHERE id IN (`+placeholders(len(chunk))+`)`, args...)
		if err != nil {
			return nil, db.fail("load users", err)
		}
		for rows.Next() {
			u, err := scanUser(rows)
			if err != nil {
				rows.Close()
				return nil, db.fail("load users", err)
			}
			out = append(out, u)
		}
		if err := rows.Close(); err != nil {
			return nil, db.fail("load users", err)
		}
		if err := rows.Err(); err != nil {
			return nil, db.fail("load users", err)
		}
	}
	return out, nil
}

// UpdateUser applies upd and returns the updated user. Returns not_found.
func (db *DB) UpdateUser(ctx context.Context, id string, upd plop.UserUpdate) (plop.User, error) {
	var sets []string
	var args []any
	if upd.Name != nil {
		sets = append(sets, "name = ?", "name_lower = ?")
		args = append(args, *upd.Name, strings.ToLower(*upd.Name))
	}
	if upd.StatusMessage != nil {
		sets = append(sets, "status_message = ?")
		args = append(args, *upd.StatusMessage)
	}
	if upd.AvatarKey != nil {
		sets = append(sets, "avatar_key = ?")
		args = append(args, *upd.AvatarKey)
	}
	if upd.Verified != nil {
		sets = append(sets, "verified = ?")
		args = append(args, *upd.Verified)
	}
	if upd.PasswordHash != nil {
		sets = append(sets, "password_hash = ?")
		args = append(args, *upd.PasswordHash)
	}
	var u plop.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		if len(sets) > 0 {
			res, err := tx.ExecContext(ctx, `UPDATE users SET `+strings.Join(sets, ", ")+` WHERE id = ?`, append(args, id)...)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil {
				return err
			} else if n == 0 {
				return notFound("user")
			}
		}
		var err error
		u, err = db.userWhere(ctx, tx, "id = ?", id)
		return err
	})
	if err != nil {
		return plop.User{}, db.fail(fmt.Sprintf("update user %s", id), err)
	}
	return u, nil
}

// SearchUsers returns verified users whose e-mail equals q or whose name starts with q
// (case-insensitive), at most limit, ordered by name.
//
// The name prefix is matched as the range [q, successor(q)) on name_lower rather than with
// LIKE: no wildcard escaping, and both SQLite and MySQL (binary collation) use the index.
func (db *DB) SearchUsers(ctx context.Context, q string, limit int) ([]plop.User, error) {
	q = strings.ToLower(strings.TrimSpace(q))
	out := []plop.User{}
	if q == "" {
		return out, nil
	}
	rows, err := db.r.QueryContext(ctx, `SELECT `+userCols+` FROM users
		WHERE verified = 1 AND (email = ? OR (name_lower >= ? AND name_lower < ?))
		ORDER BY name_lower, id LIMIT ?`, q, q, prefixEnd(q), plop.ClampLimit(limit))
	if err != nil {
		return nil, db.fail("search users", err)
	}
	defer rows.Close()
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, db.fail("search users", err)
		}
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("search users", err)
	}
	return out, nil
}

// prefixEnd returns the least string greater than every string that starts with p, in code
// point (= UTF-8 byte) order: p with its last code point incremented.
func prefixEnd(p string) string {
	for p != "" {
		r, size := utf8.DecodeLastRuneInString(p)
		p = p[:len(p)-size]
		if r == utf8.RuneError && size <= 1 {
			continue
		}
		next := r + 1
		if next >= 0xD800 && next <= 0xDFFF {
			next = 0xE000
		}
		if next <= utf8.MaxRune {
			return p + string(next)
		}
	}
	return "\U0010FFFF\U0010FFFF" // every byte after a prefix of U+10FFFF runes: effectively unbounded
}
