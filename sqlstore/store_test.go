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
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
)

// forEachDB runs body once per supported database, each on a fresh empty database: SQLite,
// and MySQL/MariaDB on the test server (see sqlstoretest; skipped when it does not answer,
// unless PLOP_TEST_REQUIRE_SERVICES=1).
func forEachDB(t *testing.T, body func(t *testing.T, db *DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		body(t, mustOpenSQLite(t))
	})
	t.Run("mysql", func(t *testing.T) {
		body(t, mustOpenMySQL(t))
	})
}

// dbOpeners open a fresh database of each dialect, for benchmarks.
var dbOpeners = []struct {
	name string
	open func(tb testing.TB) *DB
}{{"sqlite", mustOpenSQLite}, {"mysql", mustOpenMySQL}}

// mustOpenMySQL opens a fresh database on the MySQL/MariaDB test server.
func mustOpenMySQL(tb testing.TB) *DB {
	tb.Helper()
	return mustOpenURL(tb, sqlstoretest.MySQLURL(tb))
}

// mustOpenURL opens url and closes it when tb ends.
func mustOpenURL(tb testing.TB, url string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), url, quietLogger())
	if err != nil {
		tb.Fatalf("open %s: %v", redactURL(url), err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
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
