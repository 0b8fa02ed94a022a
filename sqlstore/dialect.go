package sqlstore

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the databases: the few statements that cannot
// be written once, and how the driver reports constraint violations and outages.
//
// A future MySQL dialect must open its connections with clientFoundRows=true so that
// RowsAffected counts matched rows (as SQLite does), not only changed ones.
type dialect struct {
	name string
	// insertIgnore starts an INSERT that silently skips rows violating a unique key.
	insertIgnore string
	// upsert returns an INSERT of cols into table that, on a conflict on the unique key
	// keys, updates the columns update to the inserted values.
	upsert func(table string, cols, keys, update []string) string
	// isUnique reports a unique or primary key violation.
	isUnique func(error) bool
	// isUnavailable reports that the database cannot serve the request now (closed, locked
	// beyond the busy timeout, I/O failure, lost connection).
	isUnavailable func(error) bool
}

var sqliteDialect = &dialect{
	name:         "sqlite",
	insertIgnore: "INSERT OR IGNORE",
	upsert: func(table string, cols, keys, update []string) string {
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" +
			placeholders(len(cols)) + ") ON CONFLICT (" + strings.Join(keys, ", ") + ") DO UPDATE SET ")
		for i, c := range update {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(c + " = excluded." + c)
		}
		return b.String()
	},
	isUnique: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		return e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY
	},
	isUnavailable: func(err error) bool {
		var e *sqlite.Error
		if !errors.As(err, &e) {
			return false
		}
		switch e.Code() & 0xff {
		case sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED, sqlite3.SQLITE_CANTOPEN,
			sqlite3.SQLITE_IOERR, sqlite3.SQLITE_FULL, sqlite3.SQLITE_READONLY:
			return true
		}
		return false
	},
}

// mysqlDialect holds the MySQL/MariaDB variants of the statements that differ. It is not
// reachable from Open yet: the driver, its error classification and the migrations under
// migrations/mysql come with the MySQL step.
var mysqlDialect = &dialect{
	name:         "mysql",
	insertIgnore: "INSERT IGNORE",
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
	isUnique:      func(error) bool { return false }, // driver error 1062, with the driver
	isUnavailable: func(error) bool { return false }, // connection errors, with the driver
}
