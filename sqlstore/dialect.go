package sqlstore

import (
	"errors"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// dialect is everything that differs between the databases: the few statements that cannot
// be written once, how the driver reports constraint violations and outages, and how
// migrations are serialised. The MySQL variant is in dialect_mysql.go.
type dialect struct {
	name string
	// insertIgnore starts an INSERT that silently skips rows violating a unique key.
	insertIgnore string
	// forUpdate ends a SELECT inside a write transaction that must lock the rows it reads
	// (" FOR UPDATE" on server databases; empty on SQLite, whose one writer is the lock).
	forUpdate string
	// nextSeq advances a room's last_seq and sets its updated_at: args updated_at, room id.
	nextSeq string
	// nextSeqInResult: nextSeq reports the new last_seq as the result's LastInsertId, so
	// that CreateMessage needs no SELECT to read it back under the room's lock.
	nextSeqInResult bool
	// upsert returns an INSERT of cols into table that, on a conflict on the unique key
	// keys, updates the columns update to the inserted values.
	upsert func(table string, cols, keys, update []string) string
	// isUnique reports a unique or primary key violation.
	isUnique func(error) bool
	// isUnavailable reports that the database cannot serve the request now (closed, locked
	// beyond the busy timeout, I/O failure, lost connection).
	isUnavailable func(error) bool
	// isRetryable reports an error after which the database has rolled the whole
	// transaction back and running it again is expected to succeed (a deadlock victim).
	isRetryable func(error) bool
	// transactionalDDL: schema statements take part in transactions (SQLite); on MySQL each
	// one commits implicitly.
	transactionalDDL bool
}

var sqliteDialect = &dialect{
	name:             "sqlite",
	insertIgnore:     "INSERT OR IGNORE",
	transactionalDDL: true,
	nextSeq:          `UPDATE rooms SET last_seq = last_seq + 1, updated_at = ? WHERE id = ?`,
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
	// One writer connection: transactions never deadlock; SQLITE_BUSY past the busy
	// timeout is an outage, not a reason to queue again.
	isRetryable: func(error) bool { return false },
}
