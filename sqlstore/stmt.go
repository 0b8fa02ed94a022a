package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of fixed SQL text for one pool. Preparing costs more
// than running a short query on SQLite, so the hot paths (friends list, membership checks,
// storing a message) prepare once; database/sql re-prepares on each pooled connection as
// needed. Only fixed query texts go here, never ones built with a variable IN list, so the
// cache stays small.
type stmtCache struct {
	pool *sql.DB
	m    sync.Map // query text -> *sql.Stmt
}

func (c *stmtCache) get(ctx context.Context, query string) (*sql.Stmt, error) {
	if s, ok := c.m.Load(query); ok {
		return s.(*sql.Stmt), nil
	}
	s, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if prev, loaded := c.m.LoadOrStore(query, s); loaded {
		s.Close()
		return prev.(*sql.Stmt), nil
	}
	return s, nil
}

// warm prepares queries ahead of the transactions that use them.
func (c *stmtCache) warm(ctx context.Context, queries ...string) error {
	for _, q := range queries {
		if _, err := c.get(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (c *stmtCache) close() {
	c.m.Range(func(k, v any) bool {
		v.(*sql.Stmt).Close()
		c.m.Delete(k)
		return true
	})
}

// cachedQuerier runs fixed queries through prepared statements of a pool, or of a
// transaction on that pool. It implements querier.
type cachedQuerier struct {
	c  *stmtCache
	tx *sql.Tx // nil outside a transaction
}

func (q cachedQuerier) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	if q.tx == nil {
		return q.c.get(ctx, query)
	}
	// Inside a transaction use only statements prepared beforehand (see warm): preparing on
	// the pool would wait for a second connection, which the SQLite writer does not have.
	if s, ok := q.c.m.Load(query); ok {
		return q.tx.StmtContext(ctx, s.(*sql.Stmt)), nil
	}
	return q.tx.PrepareContext(ctx, query)
}

func (q cachedQuerier) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.ExecContext(ctx, args...)
}

func (q cachedQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	s, err := q.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return s.QueryContext(ctx, args...)
}

// QueryRowContext falls back to an unprepared query when preparing fails, so that the
// error surfaces from Scan as usual.
func (q cachedQuerier) QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row {
	s, err := q.stmt(ctx, query)
	if err != nil {
		if q.tx != nil {
			return q.tx.QueryRowContext(ctx, query, args...)
		}
		return q.c.pool.QueryRowContext(ctx, query, args...)
	}
	return s.QueryRowContext(ctx, args...)
}

// rq returns the reader pool with prepared fixed queries.
func (db *DB) rq() cachedQuerier { return cachedQuerier{c: &db.rc} }

// wq returns tx (on the writer) with prepared fixed queries.
func (db *DB) wq(tx *sql.Tx) cachedQuerier { return cachedQuerier{c: &db.wc, tx: tx} }
