package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/plop-chat/plop"
)

var _ plop.DeviceStore = (*DB)(nil)

const deviceCols = `id, user_id, platform, token, subscription, created_at`

func tokenHash(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

func scanDevice(s scanner) (plop.Device, error) {
	var d plop.Device
	var sub sql.NullString
	var created int64
	err := s.Scan(&d.ID, &d.UserID, &d.Platform, &d.Token, &sub, &created)
	if sub.Valid && sub.String != "" {
		d.Subscription = json.RawMessage(sub.String)
	}
	d.CreatedAt = fromMS(created)
	return d, err
}

// CreateDevice stores d (an empty ID is filled in). Registering the same token or endpoint
// again for the same user returns the existing device, with its subscription refreshed
// (Web Push keys may change while the endpoint stays).
func (db *DB) CreateDevice(ctx context.Context, d *plop.Device) (plop.Device, error) {
	if d.ID == "" {
		d.ID = uuid.Must(uuid.NewV7()).String()
	}
	if d.CreatedAt.IsZero() {
		d.CreatedAt = time.Now()
	}
	var sub any
	if len(d.Subscription) > 0 {
		sub = string(d.Subscription)
	}
	th := tokenHash(d.Token)
	var out plop.Device
	try := func() error {
		return db.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			out, err = scanDevice(tx.QueryRowContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = ? AND platform = ? AND token_hash = ?`,
				d.UserID, d.Platform, th))
			if err == nil {
				if sub != nil && string(out.Subscription) != sub {
					out.Subscription = d.Subscription
					_, err = tx.ExecContext(ctx, `UPDATE devices SET subscription = ? WHERE id = ?`, sub, out.ID)
				}
				return err
			}
			if !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO devices (id, user_id, platform, token, token_hash, subscription, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				d.ID, d.UserID, d.Platform, d.Token, th, sub, ms(d.CreatedAt)); err != nil {
				return err
			}
			out = *d
			out.CreatedAt = plop.UTC(d.CreatedAt)
			return nil
		})
	}
	err := try()
	if err != nil && db.d.isUnique(err) {
		err = try() // a concurrent registration of the same token won; return it
	}
	if err != nil {
		return plop.Device{}, db.fail("create device", err)
	}
	return out, nil
}

// Devices lists the devices of userID, oldest first.
func (db *DB) Devices(ctx context.Context, userID string) ([]plop.Device, error) {
	rows, err := db.r.QueryContext(ctx, `SELECT `+deviceCols+` FROM devices WHERE user_id = ? ORDER BY created_at, id`, userID)
	if err != nil {
		return nil, db.fail("list devices", err)
	}
	defer rows.Close()
	out := []plop.Device{}
	for rows.Next() {
		d, err := scanDevice(rows)
		if err != nil {
			return nil, db.fail("list devices", err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, db.fail("list devices", err)
	}
	return out, nil
}

// DeleteDevice returns not_found when the user has no such device.
func (db *DB) DeleteDevice(ctx context.Context, userID, id string) error {
	res, err := db.w.ExecContext(ctx, `DELETE FROM devices WHERE id = ? AND user_id = ?`, id, userID)
	return db.fail("delete device", affected(res, err, "device"))
}
