package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"

	"github.com/plop-chat/plop"
)

// fail adds context to err and classifies it: domain errors pass through, outages wrap
// plop.ErrUnavailable, anything else stays internal. Driver messages (which may quote SQL)
// never go into a plop.Error, so they never reach clients.
//
// A call that ran out of its deadline waited on the database (for a connection, a lock or
// an answer) and is reported unavailable too; a cancelled call keeps context.Canceled only,
// as nobody waits for its answer.
func (db *DB) fail(op string, err error) error {
	if err == nil {
		return nil
	}
	var pe *plop.Error
	if errors.As(err, &pe) {
		return err
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%s: %w: %w", op, plop.ErrUnavailable, err)
	}
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("%s: %w", op, err)
	}
	if isClosed(err) || db.d.isUnavailable(err) {
		return fmt.Errorf("%s: %w: %w", op, plop.ErrUnavailable, err)
	}
	return fmt.Errorf("%s: %w", op, err)
}

// isClosed reports errors of a closed pool or a dead connection.
func isClosed(err error) bool {
	if errors.Is(err, sql.ErrConnDone) || errors.Is(err, driver.ErrBadConn) {
		return true
	}
	// database/sql does not export the error of a closed *sql.DB.
	for e := err; e != nil; e = errors.Unwrap(e) {
		if s := e.Error(); s == "sql: database is closed" || s == "sql: statement is closed" {
			return true
		}
	}
	return false
}

// notFound returns the not_found error for a missing thing.
func notFound(what string) error { return plop.Errorf(plop.ENotFound, "%s not found", what) }
