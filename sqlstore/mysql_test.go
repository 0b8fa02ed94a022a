package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/sqlstore/sqlstoretest"
)

func TestParseMySQLURL(t *testing.T) {
	cfg, pool, err := parseMySQLURL("mysql://plop:p%40ss%2Fw:rd@db.example:3307/plop?tls=skip-verify&max_open_conns=7&conn_max_lifetime=90s&readTimeout=3s&wait_timeout=60")
	must(t, err)
	if cfg.User != "plop" || cfg.Passwd != "p@ss/w:rd" || cfg.Net != "tcp" || cfg.Addr != "db.example:3307" || cfg.DBName != "plop" {
		t.Fatalf("user=%q pass=%q net=%q addr=%q db=%q", cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName)
	}
	if !cfg.ClientFoundRows || !cfg.InterpolateParams || cfg.MultiStatements || cfg.ParseTime {
		t.Fatalf("clientFoundRows=%v interpolateParams=%v multiStatements=%v parseTime=%v",
			cfg.ClientFoundRows, cfg.InterpolateParams, cfg.MultiStatements, cfg.ParseTime)
	}
	if cfg.Timeout != 5*time.Second || cfg.ReadTimeout != 3*time.Second || cfg.WriteTimeout != 10*time.Second {
		t.Fatalf("timeouts: dial %v read %v write %v", cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout)
	}
	if cfg.Collation != "utf8mb4_bin" || cfg.TLSConfig != "skip-verify" {
		t.Fatalf("collation %q tls %q", cfg.Collation, cfg.TLSConfig)
	}
	wantParams := map[string]string{"sql_mode": "'TRADITIONAL'", "innodb_lock_wait_timeout": "5", "wait_timeout": "60"}
	if len(cfg.Params) != len(wantParams) {
		t.Fatalf("session variables %v, want %v", cfg.Params, wantParams)
	}
	for k, v := range wantParams {
		if cfg.Params[k] != v {
			t.Fatalf("session variables %v, want %v", cfg.Params, wantParams)
		}
	}
	if pool != (mysqlPool{7, 7, 90 * time.Second, mysqlConnMaxIdleTime}) {
		t.Fatalf("pool = %+v", pool)
	}

	cfg, pool, err = parseMySQLURL("mysql://root@/plop_1?clientFoundRows=false&innodb_lock_wait_timeout=1&socket=/run/mysqld/mysqld.sock")
	must(t, err)
	if cfg.Net != "unix" || cfg.Addr != "/run/mysqld/mysqld.sock" || cfg.Passwd != "" || !cfg.ClientFoundRows || cfg.Params["innodb_lock_wait_timeout"] != "1" {
		t.Fatalf("socket url: %+v", cfg)
	}
	if pool != (mysqlPool{mysqlMaxOpenConns, mysqlMaxIdleConns, mysqlConnMaxLifetime, mysqlConnMaxIdleTime}) {
		t.Fatalf("default pool = %+v", pool)
	}
	cfg, _, err = parseMySQLURL("mysql://root@localhost/x")
	must(t, err)
	if cfg.Addr != "localhost:3306" {
		t.Fatalf("default port: addr %q", cfg.Addr)
	}

	for _, bad := range []string{
		"mysql://root:secret@127.0.0.1:3306/",
		"mysql://root:secret@127.0.0.1:3306",
		"mysql://root:secret@127.0.0.1:3306/a/b",
		"mysql://root:secret@127.0.0.1:3306/x?max_open_conns=0",
		"mysql://root:secret@127.0.0.1:3306/x?conn_max_lifetime=soon",
		"mysql://root:secret@127.0.0.1:3306/x?readTimeout=fast",
		"mysql://root:secret@[::1/x",
	} {
		_, _, err := parseMySQLURL(bad)
		if err == nil {
			t.Errorf("%s accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "secret") {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestMySQLErrorClasses(t *testing.T) {
	d := mysqlDialect
	wrap := func(err error) error { return fmt.Errorf("ctx: %w", err) }
	if !d.isUnique(wrap(&mysql.MySQLError{Number: 1062})) || d.isUnique(&mysql.MySQLError{Number: 1452}) || d.isUnique(errors.New("1062")) {
		t.Fatal("isUnique")
	}
	if !d.isRetryable(wrap(&mysql.MySQLError{Number: 1213})) || d.isRetryable(&mysql.MySQLError{Number: 1205}) {
		t.Fatal("isRetryable")
	}
	for _, err := range []error{
		mysql.ErrInvalidConn, driver.ErrBadConn, &mysql.MySQLError{Number: 1040}, &mysql.MySQLError{Number: 1205},
		&mysql.MySQLError{Number: 1927}, &net.OpError{Op: "dial", Err: errors.New("connection refused")},
	} {
		if !d.isUnavailable(wrap(err)) && !isClosed(err) {
			t.Errorf("%v: not unavailable", err)
		}
	}
	for _, err := range []error{&mysql.MySQLError{Number: 1062}, &mysql.MySQLError{Number: 1064}, errors.New("boom")} {
		if d.isUnavailable(err) {
			t.Errorf("%v: unavailable", err)
		}
	}
}

// mysqlServer returns the url of a fresh test database and a plain pool on it for setting
// up situations behind the store's back.
func mysqlServer(tb testing.TB, params string) (string, *sql.DB) {
	tb.Helper()
	u := sqlstoretest.MySQLURL(tb)
	if params != "" {
		u += "?" + params
	}
	cfg, _, err := parseMySQLURL(u)
	must(tb, err)
	raw, err := openMySQLPool(cfg)
	must(tb, err)
	tb.Cleanup(func() { raw.Close() })
	return u, raw
}

func TestMySQLDeadlockIsRetried(t *testing.T) {
	u, _ := mysqlServer(t, "")
	db := mustOpenURL(t, u)
	a := mustUser(t, db, "Lock")
	r1, r2 := mustRoom(t, db, t0, a), mustRoom(t, db, t0, a)
	ctx := context.Background()

	// Two transactions lock the two rooms in opposite orders; the first attempt of each
	// waits for the other to hold its first lock, so that InnoDB must pick a victim.
	var attempts atomic.Int32
	var held sync.WaitGroup
	held.Add(2)
	run := func(first, second string) error {
		var once sync.Once
		return db.inTx(ctx, func(tx *sql.Tx) error {
			attempts.Add(1)
			if _, err := tx.ExecContext(ctx, `UPDATE rooms SET updated_at = updated_at + 1 WHERE id = ?`, first); err != nil {
				return err
			}
			once.Do(func() { held.Done(); held.Wait() })
			_, err := tx.ExecContext(ctx, `UPDATE rooms SET updated_at = updated_at + 1 WHERE id = ?`, second)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- run(r1.ID, r2.ID) }()
	go func() { errs <- run(r2.ID, r1.ID) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("transaction failed instead of being retried: %v", err)
		}
	}
	if n := attempts.Load(); n != 3 {
		t.Fatalf("%d attempts, want 3 (one deadlock victim run twice)", n)
	}
	for _, id := range []string{r1.ID, r2.ID} {
		room, err := db.Room(ctx, id, a.ID)
		must(t, err)
		if want := t0.Add(2 * time.Millisecond); !room.UpdatedAt.Equal(want) {
			t.Fatalf("room updated_at %v, want %v: both transactions applied once", room.UpdatedAt, want)
		}
	}
}

func TestMySQLLockWaitIsUnavailable(t *testing.T) {
	u, raw := mysqlServer(t, "innodb_lock_wait_timeout=1")
	db := mustOpenURL(t, u)
	a := mustUser(t, db, "Waiter")
	r := mustRoom(t, db, t0, a)
	ctx := context.Background()

	// Another client holds the room's row lock and does not let go.
	tx, err := raw.BeginTx(ctx, nil)
	must(t, err)
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `UPDATE rooms SET name = 'held' WHERE id = ?`, r.ID)
	must(t, err)

	start := time.Now()
	_, _, err = db.CreateMessage(ctx, &plop.Message{RoomID: r.ID, SenderID: a.ID, Body: "stuck", CreatedAt: t0})
	if !errors.Is(err, plop.ErrUnavailable) || plop.ErrorCode(err) != plop.EUnavailable {
		t.Fatalf("send behind a held lock = %v, want unavailable", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Fatalf("gave up after %v; the lock wait timeout is 1s", took)
	}
	must(t, tx.Rollback())
	m := mustSend(t, db, r.ID, a.ID, "free", t0)
	if m.Seq != 1 {
		t.Fatalf("seq after the failed send = %d, want 1", m.Seq)
	}
}
