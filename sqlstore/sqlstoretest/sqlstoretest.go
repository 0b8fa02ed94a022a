// Package sqlstoretest gives tests their own MySQL/MariaDB database: a fresh, empty database
// on the test server for each caller, dropped when the test ends, so that test runs (and
// packages tested in parallel) never see each other's rows.
//
// The server is PLOP_TEST_MYSQL_URL (default mysql://root@127.0.0.1:3306/). When it does not
// answer, the test is skipped with the reason, unless PLOP_TEST_REQUIRE_SERVICES=1, when it
// fails instead.
package sqlstoretest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
)

// DefaultServerURL is the test server when PLOP_TEST_MYSQL_URL is not set.
const DefaultServerURL = "mysql://root@127.0.0.1:3306/"

// Prefix starts the name of every database this package creates.
const Prefix = "plop_test_"

// staleAfter is the age past which a test database left behind by a killed run is dropped.
const staleAfter = 6 * time.Hour

var probe struct {
	once sync.Once
	err  error
}

// ServerURL returns the test server's url (its database part, if any, is not used).
func ServerURL() string {
	if u := os.Getenv("PLOP_TEST_MYSQL_URL"); u != "" {
		return u
	}
	return DefaultServerURL
}

// MySQLURL creates a fresh database on the test server and returns its mysql:// url, with
// the server url's parameters. The database is dropped when tb ends. MySQLURL skips tb when
// the server does not answer, or fails it when PLOP_TEST_REQUIRE_SERVICES=1.
func MySQLURL(tb testing.TB) string {
	tb.Helper()
	server := ServerURL()
	probe.once.Do(func() { probe.err = dropStale(server) })
	if probe.err != nil {
		unavailable(tb, server, probe.err)
	}
	name := fmt.Sprintf("%s%d_%s", Prefix, time.Now().Unix(), randomHex(4))
	if err := admin(server, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"); err != nil {
		tb.Fatalf("create test database %s: %v", name, err)
	}
	tb.Cleanup(func() {
		if err := admin(server, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			tb.Errorf("drop test database %s: %v", name, err)
		}
	})
	u, _ := url.Parse(server) // parsed by admin already
	u.Path = "/" + name
	return u.String()
}

// unavailable skips or fails tb for a server that does not answer.
func unavailable(tb testing.TB, server string, err error) {
	tb.Helper()
	msg := fmt.Sprintf("MySQL/MariaDB test server %s does not answer (%v); set PLOP_TEST_MYSQL_URL to use another one", redact(server), err)
	if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatalf("%s; PLOP_TEST_REQUIRE_SERVICES=1 requires it", msg)
	}
	tb.Skip(msg)
}

// admin runs statements on the server without selecting a database.
func admin(server string, stmts ...string) error {
	db, err := open(server)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return err
		}
	}
	return nil
}

// open returns a one-connection pool on the server named by a mysql:// url.
func open(server string) (*sql.DB, error) {
	u, err := url.Parse(server)
	if err != nil {
		return nil, fmt.Errorf("PLOP_TEST_MYSQL_URL: %w", err)
	}
	if u.Scheme != "mysql" {
		return nil, fmt.Errorf("PLOP_TEST_MYSQL_URL: want mysql://user:password@host:port/")
	}
	cfg := mysql.NewConfig()
	cfg.Net, cfg.Addr = "tcp", u.Host
	if u.Port() == "" {
		cfg.Addr = net.JoinHostPort(u.Hostname(), "3306")
	}
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	cfg.Timeout, cfg.ReadTimeout, cfg.WriteTimeout = 3*time.Second, 30*time.Second, 30*time.Second
	cfg.Logger = &mysql.NopLogger{}
	c, err := mysql.NewConnector(cfg)
	if err != nil {
		return nil, err
	}
	db := sql.OpenDB(c)
	db.SetMaxOpenConns(1)
	return db, nil
}

var testDBName = regexp.MustCompile(`^` + Prefix + `([0-9]{10})_[0-9a-f]{8}$`)

// dropStale checks that the server answers and drops the test databases that runs killed
// before their cleanup left behind, once they are staleAfter old.
func dropStale(server string) error {
	db, err := open(server)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, "SHOW DATABASES LIKE '"+strings.ReplaceAll(Prefix, "_", `\_`)+"%'")
	if err != nil {
		return err
	}
	var stale []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return err
		}
		if m := testDBName.FindStringSubmatch(name); m != nil {
			if sec, _ := strconv.ParseInt(m[1], 10, 64); time.Since(time.Unix(sec, 0)) > staleAfter {
				stale = append(stale, name)
			}
		}
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, name := range stale {
		db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+name+"`")
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// redact hides the password of a url.
func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable url)"
	}
	return u.Redacted()
}
