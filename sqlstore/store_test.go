package sqlstore

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

// forEachDB runs body once per supported database, each on a fresh empty database.
// Today that is SQLite only; server databases join here when their dialect lands.
func forEachDB(t *testing.T, body func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		body(t, mustOpenSQLite(t))
	})
}

// mustOpenSQLite opens a fresh SQLite database in a temporary directory.
func mustOpenSQLite(tb testing.TB) *DB {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "plop.db")
	db, err := Open(context.Background(), "sqlite://"+path, quietLogger())
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// t0 is a fixed clock for tests; times are kept to the millisecond.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

var idSeq atomic.Int64

// newID returns a unique test id with a readable prefix.
func newID(prefix string) string { return fmt.Sprintf("%s-%04d", prefix, idSeq.Add(1)) }

// mustUser creates a verified user named name with e-mail <lower name>@example.com.
func mustUser(tb testing.TB, db *DB, name string) plop.User {
	tb.Helper()
	u := plop.User{
		ID:           newID("u"),
		Email:        fmt.Sprintf("%s.%d@example.com", name, idSeq.Add(1)),
		Name:         name,
		PasswordHash: "hash",
		Verified:     true,
		CreatedAt:    t0,
	}
	if err := db.CreateUser(context.Background(), &u); err != nil {
		tb.Fatalf("create user %s: %v", name, err)
	}
	return u
}

// wantCode fails unless err carries the plop error code.
func wantCode(tb testing.TB, err error, code string) {
	tb.Helper()
	if got := plop.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

// must fails on err.
func must(tb testing.TB, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatal(err)
	}
}
