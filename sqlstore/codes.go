package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/plop-chat/plop"
)

var _ plop.CodeStore = (*DB)(nil)

// SaveCode stores c, replacing any earlier code for the same e-mail.
func (db *DB) SaveCode(ctx context.Context, c plop.VerificationCode) error {
	q := db.d.upsert("verification_codes",
		[]string{"email", "code_hash", "expires_at", "attempts", "sent_at"},
		[]string{"email"},
		[]string{"code_hash", "expires_at", "attempts", "sent_at"})
	_, err := db.w.ExecContext(ctx, q, strings.ToLower(c.Email), c.CodeHash, ms(c.ExpiresAt), c.Attempts, ms(c.SentAt))
	return db.fail("save verification code", err)
}

// Code returns the code for email. Returns not_found.
func (db *DB) Code(ctx context.Context, email string) (plop.VerificationCode, error) {
	var c plop.VerificationCode
	var expires, sent int64
	err := db.r.QueryRowContext(ctx, `SELECT email, code_hash, expires_at, attempts, sent_at FROM verification_codes WHERE email = ?`,
		strings.ToLower(email)).Scan(&c.Email, &c.CodeHash, &expires, &c.Attempts, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return c, notFound("verification code")
	}
	if err != nil {
		return c, db.fail("load verification code", err)
	}
	c.ExpiresAt, c.SentAt = fromMS(expires), fromMS(sent)
	return c, nil
}

// AddCodeAttempt counts one wrong try and returns the attempts so far. Returns not_found.
func (db *DB) AddCodeAttempt(ctx context.Context, email string) (int, error) {
	email = strings.ToLower(email)
	var n int
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE verification_codes SET attempts = attempts + 1 WHERE email = ?`, email)
		if err != nil {
			return err
		}
		if k, err := res.RowsAffected(); err != nil {
			return err
		} else if k == 0 {
			return notFound("verification code")
		}
		return tx.QueryRowContext(ctx, `SELECT attempts FROM verification_codes WHERE email = ?`, email).Scan(&n)
	})
	if err != nil {
		return 0, db.fail("count verification attempt", err)
	}
	return n, nil
}

// DeleteCode removes the code; removing a missing code is not an error.
func (db *DB) DeleteCode(ctx context.Context, email string) error {
	_, err := db.w.ExecContext(ctx, `DELETE FROM verification_codes WHERE email = ?`, strings.ToLower(email))
	return db.fail("delete verification code", err)
}
