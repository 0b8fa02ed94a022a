package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
)

// MySQL and MariaDB
//
// Transactions run at REPEATABLE READ, set on every connection: the InnoDB default, and what
// gives the several queries of one read (readTx) one snapshot. Write transactions that read a
// row and then write depending on it read it with a locking read (SELECT ... FOR UPDATE, or an
// UPDATE first), which sees the latest committed row whatever the isolation level.
//
// Per-room seq stays gap-free and unique across nodes because a message's seq is taken with an
// UPDATE of its room's last_seq in the transaction that inserts it: the UPDATE reads the latest
// committed last_seq (an UPDATE always does, at any isolation level) and holds the room row's
// exclusive lock until commit, so concurrent senders on any node take their turn. Messages are
// stored in batches (groupcommit.go): one UPDATE advances the last_seq of every room of the
// batch, locking the rooms in id order, one SELECT reads the new values back, and multi-row
// INSERTs store the messages and their push jobs. A single message takes its seq with
// UPDATE ... LAST_INSERT_ID(last_seq + 1), which returns it in the statement's own result. A
// transaction that fails rolls back its increments with everything else, so no number is
// skipped; a racing retry with a taken client_msg_id fails on the unique key and rolls back
// the same way.
//
// Lock order, to keep deadlocks rare: a room's row before its member rows (CreateMessage,
// AddMembers, RemoveMember, UpdateRoom). A deadlock victim is run again by inTx.

// Pool and session defaults of a MySQL database; parameters of the url override them.
const (
	mysqlMaxOpenConns    = 20
	mysqlMaxIdleConns    = 10
	mysqlConnMaxLifetime = 5 * time.Minute
	mysqlConnMaxIdleTime = 2 * time.Minute
	// mysqlLockWait is innodb_lock_wait_timeout in seconds: how long a statement waits for a
	// row lock before failing as unavailable. It stays below the read timeout.
	mysqlLockWait = 5
	// migrationLockWait is how long one try to take the migration lock waits; Migrate tries
	// again until migrationLockPatience has passed.
	migrationLockWait     = 5
	migrationLockPatience = 2 * time.Minute
)

// mysqlDriverDefaults are the driver parameters used unless the url sets them.
//
//   - timeout, readTimeout, writeTimeout: a database that went away (a dead host answers
//     nothing) fails calls after these instead of hanging them;
//   - collation: utf8mb4 on the wire, compared byte-wise like SQLite (the key columns are
//     VARBINARY anyway; see migrations/mysql);
//   - interpolateParams: one round trip per ad-hoc query instead of prepare, execute, close
//     (safe with utf8mb4); the hot queries are prepared once per connection (stmtCache);
//   - sql_mode TRADITIONAL: too long or invalid values fail instead of being truncated.
var mysqlDriverDefaults = map[string]string{
	"timeout":                  "5s",
	"readTimeout":              "10s",
	"writeTimeout":             "10s",
	"collation":                "utf8mb4_bin",
	"interpolateParams":        "true",
	"sql_mode":                 "'TRADITIONAL'",
	"innodb_lock_wait_timeout": strconv.Itoa(mysqlLockWait),
}

// mysqlPool holds the pool settings taken from a mysql url.
type mysqlPool struct {
	maxOpen, maxIdle         int
	maxLifetime, maxIdleTime time.Duration
}

// parseMySQLURL turns mysql://user:password@host:port/dbname?params into the driver's
// configuration. Host defaults to 127.0.0.1, port to 3306; the user and password are
// percent-decoded. Parameters:
//
//   - max_open_conns (20), max_idle_conns (10), conn_max_lifetime (5m),
//     conn_max_idle_time (2m): the pool;
//   - socket=/path: connect over a Unix socket instead of TCP;
//   - any parameter of the driver (tls, timeout, readTimeout, writeTimeout, ...), and any
//     other name=value as a session variable, as the driver does.
//
// clientFoundRows is always on: the store counts matched rows, not changed ones.
func parseMySQLURL(raw string) (*mysql.Config, mysqlPool, error) {
	pool := mysqlPool{mysqlMaxOpenConns, mysqlMaxIdleConns, mysqlConnMaxLifetime, mysqlConnMaxIdleTime}
	bad := func(format string, args ...any) (*mysql.Config, mysqlPool, error) {
		return nil, pool, fmt.Errorf("database url %s: %s", redactURL(raw), fmt.Sprintf(format, args...))
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Parse quotes the url, password included, in its error: keep only the reason.
		if ue, ok := err.(*url.Error); ok {
			err = ue.Err
		}
		return bad("%v", err)
	}
	if u.Scheme != "mysql" {
		return bad("scheme must be mysql")
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" || strings.Contains(dbName, "/") {
		return bad("want mysql://user:password@host:port/dbname")
	}
	q := u.Query()
	for name, dst := range map[string]*int{"max_open_conns": &pool.maxOpen, "max_idle_conns": &pool.maxIdle} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return bad("%s must be a positive integer", name)
			}
			*dst = n
		}
		q.Del(name)
	}
	for name, dst := range map[string]*time.Duration{"conn_max_lifetime": &pool.maxLifetime, "conn_max_idle_time": &pool.maxIdleTime} {
		if v := q.Get(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return bad("%s must be a positive duration such as 5m", name)
			}
			*dst = d
		}
		q.Del(name)
	}
	pool.maxIdle = min(pool.maxIdle, pool.maxOpen)

	network, addr := "tcp", u.Host
	if s := q.Get("socket"); s != "" {
		network, addr = "unix", s
	} else {
		host, port := u.Hostname(), u.Port()
		if host == "" {
			host = "127.0.0.1"
		}
		if port == "" {
			port = "3306"
		}
		addr = net.JoinHostPort(host, port)
	}
	q.Del("socket")
	for k, v := range mysqlDriverDefaults {
		if !q.Has(k) {
			q.Set(k, v)
		}
	}
	q.Set("clientFoundRows", "true")
	cfg, err := mysql.ParseDSN(network + "(" + addr + ")/" + url.PathEscape(dbName) + "?" + q.Encode())
	if err != nil {
		return bad("%v", err)
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	return cfg, pool, nil
}

// openMySQL opens a pool on a MySQL or MariaDB database. Readers and writers share it.
func openMySQL(raw string, logger *slog.Logger) (*DB, error) {
	cfg, pool, err := parseMySQLURL(raw)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	cfg.Logger = driverLogger{logger}
	p, err := openMySQLPool(cfg)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	p.SetMaxOpenConns(pool.maxOpen)
	p.SetMaxIdleConns(pool.maxIdle)
	p.SetConnMaxLifetime(pool.maxLifetime)
	p.SetConnMaxIdleTime(pool.maxIdleTime)
	db := &DB{w: p, r: p, d: mysqlDialect}
	db.rc.pool, db.wc.pool = p, p
	db.migrationConn = func(ctx context.Context) (*sql.Conn, func(), error) {
		// Migrations get their own connection without a read timeout: a schema change on a
		// large table may take longer than any query should.
		mc := cfg.Clone()
		mc.ReadTimeout = 0
		mp, err := openMySQLPool(mc)
		if err != nil {
			return nil, nil, err
		}
		conn, err := mp.Conn(ctx)
		if err != nil {
			mp.Close()
			return nil, nil, err
		}
		unlock, err := lockMigrations(ctx, conn, logger)
		if err != nil {
			conn.Close()
			mp.Close()
			return nil, nil, err
		}
		return conn, func() { unlock(); conn.Close(); mp.Close() }, nil
	}
	return db, nil
}

func openMySQLPool(cfg *mysql.Config) (*sql.DB, error) {
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(sessionConnector{c}), nil
}

// sessionConnector sets the transaction isolation level on every new connection. (The
// session variable is tx_isolation on MariaDB before 11.1 and transaction_isolation on
// MySQL 8; the SET TRANSACTION statement is understood by both.)
type sessionConnector struct{ driver.Connector }

func (c sessionConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	ex, ok := conn.(driver.ExecerContext)
	if !ok {
		conn.Close()
		return nil, fmt.Errorf("mysql connection cannot execute statements")
	}
	if _, err := ex.ExecContext(ctx, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ", nil); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// lockMigrations takes the server-wide named lock that keeps nodes starting at once from
// migrating the same database together, and returns its release. The lock is per database,
// so that several databases on one server (test runs) do not wait on each other; the server
// drops it by itself if the connection dies.
//
// MySQL commits each schema statement implicitly, so a migration cannot be rolled back as a
// whole: the lock is what keeps two nodes from interleaving one.
func lockMigrations(ctx context.Context, conn *sql.Conn, logger *slog.Logger) (func(), error) {
	const name = "CONCAT('plop_migrate.', LEFT(DATABASE(), 48))"
	deadline := time.Now().Add(migrationLockPatience)
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK("+name+", ?)", migrationLockWait).Scan(&got); err != nil {
			return nil, fmt.Errorf("take migration lock: %w", err)
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if !got.Valid || time.Now().After(deadline) {
			return nil, fmt.Errorf("take migration lock: another node has held it for over %v", migrationLockPatience)
		}
		logger.InfoContext(ctx, "waiting for another node to finish migrating the database")
	}
	return func() {
		// A fresh context: release even when the caller's was cancelled.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		conn.ExecContext(ctx, "DO RELEASE_LOCK("+name+")")
	}, nil
}

// driverLogger sends the driver's own reports (dropped connections, mostly) to the logger.
type driverLogger struct{ l *slog.Logger }

func (d driverLogger) Print(v ...any) { d.l.Warn("mysql driver", "msg", fmt.Sprint(v...)) }
