package sqlstore

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/go-sql-driver/mysql"
)

// mysqlDialect holds the MySQL/MariaDB variants of the statements that differ and the
// classification of the driver's errors. It serves MariaDB 10.5+ and MySQL 8 alike.
//
// INSERT IGNORE skips more than duplicates on MySQL: a row that violates a foreign key is
// skipped with a warning instead of failing the statement, where SQLite's INSERT OR IGNORE
// fails. The store only uses it where the referenced rows exist (members of an existing room,
// reactions on an existing message, friendships and blocks of existing users).
var mysqlDialect = &dialect{
	name:         "mysql",
	insertIgnore: "INSERT IGNORE",
	forUpdate:    " FOR UPDATE",
	// LAST_INSERT_ID(expr) returns expr to the client in the statement's OK packet: one
	// round trip fewer while the room's row lock is held.
	nextSeq:         `UPDATE rooms SET last_seq = LAST_INSERT_ID(last_seq + 1), updated_at = ? WHERE id = ?`,
	nextSeqInResult: true,
	upsert: func(table string, cols, keys, update []string) string {
		// VALUES(col) is understood by MariaDB and MySQL 8 alike (MySQL's row alias form is
		// not understood by MariaDB). The unique key is implied by the table's indexes.
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
			placeholders(len(cols)) + ") ON DUPLICATE KEY UPDATE ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = VALUES(" + c + ")")
		}
		return b.String()
	},
	isUnique:      func(err error) bool { return mysqlErrorIn(err, mysqlDuplicate) },
	isUnavailable: isMySQLUnavailable,
	isRetryable:   func(err error) bool { return mysqlErrorIn(err, mysqlRetryable) },
}

// Server error numbers the store acts on.
var (
	// mysqlDuplicate: ER_DUP_ENTRY, ER_DUP_ENTRY_WITH_KEY_NAME.
	mysqlDuplicate = []uint16{1062, 1586}
	// mysqlRetryable: ER_LOCK_DEADLOCK (InnoDB has rolled the transaction back) and
	// ER_CHECKREAD (MariaDB's snapshot isolation found a row changed since it was read).
	mysqlRetryable = []uint16{1213, 1020}
	// mysqlUnavailable are answers of a server that cannot serve now:
	//   1040 too many connections, 1053 server shutdown, 1203/1226 user connection limits,
	//   1205 lock wait timeout (see below), 1290/1836 read-only (a failover in progress),
	//   1317 query interrupted (KILL QUERY, shutdown), 1927 connection killed (MariaDB),
	//   1969 max_statement_time exceeded (MariaDB), 3024 max_execution_time exceeded
	//   (MySQL), 4031 disconnected for inactivity (MySQL), 2002/2003/2006/2013 client-side
	//   connection errors (relayed by some proxies), 1213/1020 when the retries ran out.
	//
	// A lock wait timeout (1205) is not retried: the session's innodb_lock_wait_timeout
	// (5 s, set at connect) has already been spent waiting, so something holds the lock far
	// longer than any of the store's transactions should; waiting again would only hold the
	// caller longer. The request fails as unavailable and the client retries later.
	mysqlUnavailable = []uint16{1040, 1053, 1203, 1205, 1213, 1020, 1226, 1290, 1317, 1836, 1927,
		1969, 3024, 4031, 2002, 2003, 2006, 2013}
)

// mysqlErrorIn reports whether err is a server error with one of the numbers.
func mysqlErrorIn(err error, numbers []uint16) bool {
	var e *mysql.MySQLError
	if !errors.As(err, &e) {
		return false
	}
	for _, n := range numbers {
		if e.Number == n {
			return true
		}
	}
	return false
}

// isMySQLUnavailable reports lost or refused connections and the server answers listed in
// mysqlUnavailable.
func isMySQLUnavailable(err error) bool {
	if mysqlErrorIn(err, mysqlUnavailable) {
		return true
	}
	var ne net.Error
	switch {
	case errors.Is(err, mysql.ErrInvalidConn), errors.Is(err, mysql.ErrPktSync),
		errors.Is(err, mysql.ErrPktSyncMul), errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return true
	}
	return false
}
