package sqlstore

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations
var migrationsFS embed.FS

// migration is one embedded file migrations/<dialect>/NNNN_name.sql.
type migration struct {
	version int64
	name    string
	stmts   []string
}

// Migrate applies the embedded migrations of the database's dialect that are not recorded in
// schema_migrations yet, in order. It is idempotent, and safe to run from several nodes at
// once: on MySQL a named lock (GET_LOCK) lets one node migrate while the others wait, on
// SQLite each migration runs in one write transaction.
//
// SQLite applies each migration in a transaction. MySQL commits every schema statement
// implicitly, so there a migration that fails half way stays half applied: the MySQL
// migration files use CREATE TABLE IF NOT EXISTS with their indexes inline, so that running
// them again after a fix completes them.
func (db *DB) Migrate(ctx context.Context) error {
	list, err := loadMigrations(db.d.name)
	if err != nil {
		return err
	}
	conn, release, err := db.migrationConn(ctx)
	if err != nil {
		return db.fail("migrate database", err)
	}
	defer release()
	_, err = conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version BIGINT NOT NULL PRIMARY KEY,
		name VARCHAR(255) NOT NULL,
		applied_at BIGINT NOT NULL)`)
	if err != nil {
		return db.fail("create schema_migrations", err)
	}
	for _, m := range list {
		applied, err := db.applyMigration(ctx, conn, m)
		if err != nil {
			return db.fail(fmt.Sprintf("apply migration %04d_%s", m.version, m.name), err)
		}
		if applied {
			db.logger.Info("applied database migration", "dialect", db.d.name, "version", m.version, "name", m.name)
		}
	}
	return nil
}

// applyMigration runs m on conn unless schema_migrations records it, and records it; in one
// transaction where the dialect's schema statements are transactional.
func (db *DB) applyMigration(ctx context.Context, conn *sql.Conn, m migration) (applied bool, err error) {
	var q interface {
		ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
		QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	} = conn
	if db.d.transactionalDDL {
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return false, err
		}
		defer tx.Rollback()
		q = tx
		defer func() {
			if err == nil {
				err = tx.Commit()
				applied = applied && err == nil
			}
		}()
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		return false, nil
	}
	for i, s := range m.stmts {
		if _, err := q.ExecContext(ctx, s); err != nil {
			return false, fmt.Errorf("statement %d: %w", i+1, err)
		}
	}
	_, err = q.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, ms(time.Now()))
	return err == nil, err
}

// loadMigrations reads and orders the migrations of one dialect.
func loadMigrations(dialect string) ([]migration, error) {
	dir := path.Join("migrations", dialect)
	entries, err := fs.ReadDir(migrationsFS, dir)
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}
	var out []migration
	seen := map[int64]string{}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		base := strings.TrimSuffix(e.Name(), ".sql")
		num, name, ok := strings.Cut(base, "_")
		v, err := strconv.ParseInt(num, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.sql", e.Name())
		}
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		body, err := fs.ReadFile(migrationsFS, path.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", e.Name(), err)
		}
		out = append(out, migration{version: v, name: name, stmts: splitStatements(string(body))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	return out, nil
}

// splitStatements splits a migration file into statements: each ends with a semicolon at the
// end of a line. Lines starting with "--" are comments. (Good enough for schema files; not a
// general SQL parser: keep semicolons out of string literals at line ends.)
func splitStatements(body string) []string {
	var stmts []string
	var cur strings.Builder
	for _, line := range strings.Split(body, "\n") {
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "--") {
			continue
		}
		cur.WriteString(line)
		cur.WriteString("\n")
		if strings.HasSuffix(t, ";") {
			if s := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(cur.String()), ";")); s != "" {
				stmts = append(stmts, s)
			}
			cur.Reset()
		}
	}
	if s := strings.TrimSpace(cur.String()); s != "" {
		stmts = append(stmts, s)
	}
	return stmts
}
