package sqlstore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/plop-chat/plop"
)

func TestOpenURLForms(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	abs := filepath.Join(dir, "abs.db")
	t.Chdir(dir)
	for _, url := range []string{"sqlite://" + abs, "sqlite://rel.db", "file:" + filepath.Join(dir, "f.db") + "?cache=private"} {
		db, err := Open(ctx, url, quietLogger())
		if err != nil {
			t.Fatalf("Open(%q): %v", url, err)
		}
		var mode string
		var fk, sync int
		must(t, db.r.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
		must(t, db.r.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk))
		must(t, db.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
		if mode != "wal" || fk != 1 || sync != 1 {
			t.Errorf("%s: journal_mode=%s foreign_keys=%d synchronous=%d", url, mode, fk, sync)
		}
		must(t, db.Ping(ctx))
		must(t, db.Close())
	}
	for _, name := range []string{"abs.db", "rel.db", "f.db"} {
		if _, err := os.Stat(filepath.Join(dir, name)); err != nil {
			t.Errorf("database file %s: %v", name, err)
		}
	}
	if _, err := Open(ctx, "postgres://x", quietLogger()); err == nil {
		t.Fatal("unsupported scheme accepted")
	}
}

func TestMigrateIdempotent(t *testing.T) {
	forEachURL(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db, err := Open(ctx, url, quietLogger())
		must(t, err)
		u := mustUser(t, db, "Kept")
		must(t, db.Migrate(ctx))
		must(t, db.Close())

		db, err = Open(ctx, url, quietLogger())
		must(t, err)
		defer db.Close()
		if _, err := db.UserByID(ctx, u.ID); err != nil {
			t.Fatalf("user lost across reopen: %v", err)
		}
		list, err := loadMigrations(db.d.name)
		must(t, err)
		var n int
		must(t, db.r.QueryRowContext(ctx, "SELECT COUNT(*) FROM schema_migrations").Scan(&n))
		if n != len(list) || n == 0 {
			t.Fatalf("schema_migrations has %d rows, want %d", n, len(list))
		}
	})
}

func TestMigrationsMatch(t *testing.T) {
	sqlite, err := loadMigrations("sqlite")
	must(t, err)
	mysql, err := loadMigrations("mysql")
	must(t, err)
	if len(sqlite) != len(mysql) {
		t.Fatalf("%d sqlite migrations, %d mysql ones: every schema change needs both", len(sqlite), len(mysql))
	}
	for i := range sqlite {
		if sqlite[i].version != mysql[i].version || sqlite[i].name != mysql[i].name {
			t.Errorf("migration %d: sqlite %04d_%s, mysql %04d_%s", i, sqlite[i].version, sqlite[i].name, mysql[i].version, mysql[i].name)
		}
	}
}

func TestClosedDatabaseIsUnavailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		must(t, db.Close())
		_, err := db.UserByID(context.Background(), "x")
		if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
			t.Fatalf("read on closed db = %v, want unavailable", err)
		}
		err = db.CreateUser(context.Background(), &plop.User{ID: "x", Email: "x@example.com"})
		wantCode(t, err, plop.EUnavailable)
		_, _, err = db.CreateMessage(context.Background(), &plop.Message{RoomID: "r", SenderID: "x", Body: "b"})
		wantCode(t, err, plop.EUnavailable)
		wantCode(t, db.Ping(context.Background()), plop.EUnavailable)
	})
}

func TestDeadlineIsUnavailable(t *testing.T) {
	forEachDB(t, func(t *testing.T, db *DB) {
		ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
		defer cancel()
		<-ctx.Done()
		_, err := db.Friends(ctx, "x")
		if !errors.Is(err, plop.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("call past its deadline = %v, want unavailable wrapping the deadline", err)
		}
		ctx, cancel = context.WithCancel(context.Background())
		cancel()
		_, err = db.Friends(ctx, "x")
		if errors.Is(err, plop.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled call = %v, want context.Canceled only", err)
		}
	})
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- c\nCREATE TABLE a (\n x INT\n);\n\nCREATE INDEX i ON a (x);\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (\n x INT\n)" || got[1] != "CREATE INDEX i ON a (x)" {
		t.Fatalf("splitStatements = %q", got)
	}
}
