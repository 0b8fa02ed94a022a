// Package sqlstore implements the store interfaces of package plop on a relational database:
// SQLite (the embedded default, through the pure-Go modernc.org/sqlite driver) and
// MySQL/MariaDB (through github.com/go-sql-driver/mysql, for several nodes sharing one
// database) behind the same SQL and a small dialect seam.
//
// One set of queries serves every dialect: plain ? placeholders, no RETURNING, no functions
// that exist in one database only. What differs (upserts, "insert or ignore", locking reads,
// taking the next seq, error codes, how migrations are serialised, the schema itself) lives
// in dialect values (dialect.go, dialect_mysql.go) and in per-dialect migration folders.
// mysql.go says how seq stays gap-free across nodes and which isolation level and lock order
// the MySQL transactions follow.
//
// Failures to reach the database wrap plop.ErrUnavailable (see fail). Transactions that the
// database rolls back as deadlock victims are run again (see inTx).
//
// Times are stored as integer Unix milliseconds in UTC and come back as UTC time.Time.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"strings"
	"time"
)

// DB is the SQL store. It implements every store interface of package plop.
//
// On SQLite it holds two pools: a writer with exactly one connection (SQLite allows one
// writer at a time; queuing in Go is cheaper than spinning on SQLITE_BUSY) whose transactions
// begin IMMEDIATE, and a pool of read-only connections that WAL lets run beside the writer.
//
// On MySQL/MariaDB one pool serves both; see parseMySQLURL for its settings.
type DB struct {
	w      *sql.DB // writes and read-modify-write transactions
	r      *sql.DB // plain reads; the same pool as w on server databases
	d      *dialect
	logger *slog.Logger
	rc, wc stmtCache       // prepared hot queries of r and w
	gc     *groupCommitter // stores CreateMessage's messages in batches (groupcommit.go)
	// migrationConn returns a connection to run migrations on, holding whatever lock keeps
	// other processes from migrating at the same time, and its release.
	migrationConn func(ctx context.Context) (*sql.Conn, func(), error)
}

// Open opens the database named by url and applies the embedded migrations.
//
// Accepted forms: "sqlite:///abs/path/plop.db", "sqlite://relative/path.db" and
// "file:path.db[?params]" (the parent directory must exist); and
// "mysql://user:password@host:port/dbname[?params]" (the database must exist; see
// parseMySQLURL for the parameters).
func Open(ctx context.Context, url string, logger *slog.Logger) (*DB, error) {
	if logger == nil {
		logger = slog.Default()
	}
	var db *DB
	var err error
	switch {
	case strings.HasPrefix(url, "sqlite://"), strings.HasPrefix(url, "file:"):
		db, err = openSQLite(url)
	case strings.HasPrefix(url, "mysql://"):
		db, err = openMySQL(url, logger)
	default:
		return nil, fmt.Errorf("open database: unsupported url scheme in %q (want sqlite://, file: or mysql://)", redactURL(url))
	}
	if err != nil {
		return nil, err
	}
	db.logger = logger
	if err := db.Ping(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := db.wc.warm(ctx, db.hotWrites()...); err != nil {
		db.Close()
		return nil, db.fail("prepare statements", err)
	}
	committers := 1 // SQLite's one writer
	if db.d != sqliteDialect {
		committers = mysqlCommitters
	}
	db.startCommitters(committers, nil)
	return db, nil
}

// sqlitePragmas are applied to every pooled connection through the DSN.
var sqlitePragmas = []string{
	"busy_timeout(5000)",
	"journal_mode(WAL)",
	"foreign_keys(1)",
	"synchronous(NORMAL)",
}

func openSQLite(url string) (*DB, error) {
	var path string
	switch {
	case strings.HasPrefix(url, "sqlite://"):
		path = strings.TrimPrefix(url, "sqlite://") // "/abs/path" or "relative/path"
	default:
		path = url
	}
	if path == "" || path == "file:" {
		return nil, fmt.Errorf("open database: no file name in %q", url)
	}
	params := make([]string, 0, len(sqlitePragmas)+2)
	for _, p := range sqlitePragmas {
		params = append(params, "_pragma="+p)
	}
	dsn := func(extra ...string) string {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		return path + sep + strings.Join(append(params, extra...), "&")
	}
	w, err := sql.Open("sqlite", dsn("_txlock=immediate"))
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)

	r, err := sql.Open("sqlite", dsn("_pragma=query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database: %w", err)
	}
	n := max(4, 2*runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxLifetime(0)
	r.SetConnMaxIdleTime(0)
	db := &DB{w: w, r: r, d: sqliteDialect}
	db.rc.pool, db.wc.pool = r, w
	db.migrationConn = func(ctx context.Context) (*sql.Conn, func(), error) {
		c, err := w.Conn(ctx)
		if err != nil {
			return nil, nil, err
		}
		return c, func() { c.Close() }, nil
	}
	return db, nil
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return db.fail("ping database", err)
	}
	if db.r != db.w {
		if err := db.r.PingContext(ctx); err != nil {
			return db.fail("ping database", err)
		}
	}
	return nil
}

// Stats returns the pool statistics of the writer and the readers combined.
func (db *DB) Stats() sql.DBStats {
	s := db.w.Stats()
	if db.r == db.w {
		return s
	}
	t := db.r.Stats()
	s.MaxOpenConnections += t.MaxOpenConnections
	s.OpenConnections += t.OpenConnections
	s.InUse += t.InUse
	s.Idle += t.Idle
	s.WaitCount += t.WaitCount
	s.WaitDuration += t.WaitDuration
	s.MaxIdleClosed += t.MaxIdleClosed
	s.MaxIdleTimeClosed += t.MaxIdleTimeClosed
	s.MaxLifetimeClosed += t.MaxLifetimeClosed
	return s
}

// Close stops the committers of CreateMessage (after the batches they are running; senders
// still queued get an unavailable error) and closes both pools.
func (db *DB) Close() error {
	if db.gc != nil {
		db.gc.close()
	}
	db.rc.close()
	db.wc.close()
	var errs []error
	if db.r != nil && db.r != db.w {
		errs = append(errs, db.r.Close())
	}
	if db.w != nil {
		errs = append(errs, db.w.Close())
	}
	return errors.Join(errs...)
}

// querier is what both *sql.DB and *sql.Tx offer; loaders take it so that they run inside or
// outside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// maxTxAttempts bounds how often inTx runs a transaction that the database rolled back as a
// deadlock victim.
const maxTxAttempts = 4

// inTx runs fn in a transaction on the writer and commits it when fn returns nil.
// Inside fn use only tx: the SQLite writer has one connection.
//
// When the database chose the transaction as a deadlock victim (server databases only), inTx
// runs fn again, up to maxTxAttempts times in all, after a short random pause. fn must
// therefore set, not accumulate, whatever it writes outside the transaction.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	for attempt := 1; ; attempt++ {
		err := db.tryTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || !db.d.isRetryable(err) || ctx.Err() != nil {
			return err
		}
		db.logger.DebugContext(ctx, "transaction rolled back by the database; retrying", "attempt", attempt, "err", err)
		pause := time.NewTimer(time.Duration(attempt) * time.Duration(1+rand.IntN(5)) * time.Millisecond)
		select {
		case <-ctx.Done():
			pause.Stop()
			return err
		case <-pause.C:
		}
	}
}

func (db *DB) tryTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// redactURL hides the password of a database url for error messages and logs.
func redactURL(u string) string {
	at := strings.LastIndex(u, "@")
	scheme := strings.Index(u, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return u
	}
	creds := u[scheme+3 : at]
	if i := strings.Index(creds, ":"); i >= 0 {
		return u[:scheme+3] + creds[:i] + ":xxxxx" + u[at:]
	}
	return u
}

// ms converts t to the stored form: Unix milliseconds.
func ms(t time.Time) int64 { return t.UnixMilli() }

// fromMS converts a stored time back to UTC.
func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

// msPtr converts an optional time to a nullable column value.
func msPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMilli()
}

// timePtr converts a nullable column back to an optional time.
func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

// placeholders returns "?, ?, ?" for n values.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
