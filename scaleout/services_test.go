package scaleout

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// shared holds what the tests of one run build once: the plop binary and an initialized
// MariaDB data directory that each test copies. TestMain removes its directory.
var shared struct {
	dir string // temporary directory of the run

	buildOnce sync.Once
	plopBin   string
	buildErr  error

	dbOnce     sync.Once
	dbTemplate string
	dbErr      error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "plop-scaleout-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	shared.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// plopBinary builds cmd/plop once per run and returns its path.
func plopBinary(tb testing.TB) string {
	tb.Helper()
	shared.buildOnce.Do(func() {
		goBin, err := exec.LookPath("go")
		if err != nil {
			goBin = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		out := filepath.Join(shared.dir, "plop")
		cmd := exec.Command(goBin, "build", "-o", out, "github.com/plop-chat/plop/cmd/plop")
		if b, err := cmd.CombinedOutput(); err != nil {
			shared.buildErr = fmt.Errorf("go build ./cmd/plop: %v\n%s", err, b)
			return
		}
		shared.plopBin = out
	})
	if shared.buildErr != nil {
		tb.Fatal(shared.buildErr)
	}
	return shared.plopBin
}

// redisServer is a private redis-server without persistence: a restart loses every key, as
// a real outage of a cache-configured Redis would.
type redisServer struct {
	owner    testing.TB // the test the server lives as long as
	bin, dir string
	port     int
	proc     *proc
	starts   int
}

func startRedis(tb testing.TB, dir string) *redisServer {
	tb.Helper()
	r := &redisServer{
		owner: tb,
		bin:   requireTool(tb, "the shared broker, presence and limits", "redis-server"),
		dir:   filepath.Join(dir, "redis"),
		port:  freePort(tb),
	}
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	onFreePort(tb, "redis-server", &r.port, r.tryStart)
	return r
}

// URL is the PLOP_REDIS_URL of the server.
func (r *redisServer) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// start runs the server again on its port and waits until it answers PING. tb may be a
// subtest of the owner: the server still lives as long as the owner.
func (r *redisServer) start(tb testing.TB) {
	tb.Helper()
	if err := r.tryStart(tb); err != nil {
		tb.Fatalf("redis-server answering PING: %v", err)
	}
}

func (r *redisServer) tryStart(tb testing.TB) error {
	tb.Helper()
	r.starts++
	r.proc = startProcFor(tb, r.owner, fmt.Sprintf("redis#%d", r.starts), filepath.Join(r.dir, "redis.log"), childEnv(), r.bin,
		"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", r.dir, "--protected-mode", "no")
	return poll(10*time.Second, r.proc, r.ping)
}

// onFreePort runs try, which starts a server on *port; when the server exits at once (another
// process took the port since freePort chose it), it picks another port and tries again.
func onFreePort(tb testing.TB, what string, port *int, try func(testing.TB) error) {
	tb.Helper()
	for attempt := 1; ; attempt++ {
		err := try(tb)
		if err == nil {
			return
		}
		if !errors.Is(err, errExited) || attempt == 3 {
			tb.Fatalf("%s on port %d: %v", what, *port, err)
		}
		tb.Logf("%s exited at start, port %d taken? trying another", what, *port)
		*port = freePort(tb)
	}
}

// kill ends the server with SIGKILL.
func (r *redisServer) kill() { r.proc.kill() }

func (r *redisServer) ping() error {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", r.port), time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write([]byte("PING\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if line != "+PONG\r\n" {
		return fmt.Errorf("PING answered %q", line)
	}
	return nil
}

// mariaDB is a private MariaDB server listening on a loopback port, root without password.
type mariaDB struct {
	owner            testing.TB // the test the server lives as long as
	bin, client, dir string
	port             int
	proc             *proc
	starts           int
}

// mariadbArgs tune a server for tests: small buffers, no binary log, no name lookups.
var mariadbArgs = []string{
	"--no-defaults",
	"--skip-name-resolve",
	"--innodb-buffer-pool-size=32M",
	"--innodb-log-file-size=8M",
	"--skip-log-bin",
	"--bind-address=127.0.0.1",
	"--max-connections=300",
	// As Debian's packaged configuration has it, which --no-defaults skips.
	"--character-set-server=utf8mb4",
	"--collation-server=utf8mb4_general_ci",
}

// dbTemplate runs mariadb-install-db once per run and returns the initialized data dir.
func dbTemplate(tb testing.TB) string {
	tb.Helper()
	install := requireTool(tb, "a private MariaDB", "mariadb-install-db", "mysql_install_db")
	shared.dbOnce.Do(func() {
		dir := filepath.Join(shared.dir, "mariadb-template")
		args := append([]string{}, mariadbArgs[:1]...) // --no-defaults must come first
		args = append(args, "--datadir="+dir, "--auth-root-authentication-method=normal", "--skip-test-db")
		args = append(args, mariadbArgs[1:]...)
		if os.Geteuid() == 0 {
			args = append(args, "--user=root")
		}
		cmd := exec.Command(install, args...)
		cmd.Env = childEnv()
		if b, err := cmd.CombinedOutput(); err != nil {
			shared.dbErr = fmt.Errorf("mariadb-install-db: %v\n%s", err, b)
			return
		}
		shared.dbTemplate = dir
	})
	if shared.dbErr != nil {
		tb.Fatal(shared.dbErr)
	}
	return shared.dbTemplate
}

func startMariaDB(tb testing.TB, dir string) *mariaDB {
	tb.Helper()
	m := &mariaDB{
		owner:  tb,
		bin:    requireTool(tb, "a private MariaDB", "mariadbd", "mysqld"),
		client: requireTool(tb, "a private MariaDB", "mariadb", "mysql"),
		dir:    filepath.Join(dir, "mariadb"),
		port:   freePort(tb),
	}
	tmpl := dbTemplate(tb)
	if err := os.MkdirAll(m.dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if b, err := exec.Command("cp", "-a", tmpl, filepath.Join(m.dir, "data")).CombinedOutput(); err != nil {
		tb.Fatalf("copy the MariaDB data dir: %v\n%s", err, b)
	}
	onFreePort(tb, "MariaDB", &m.port, m.tryStart)
	if out, err := m.sql("CREATE DATABASE plop"); err != nil {
		tb.Fatalf("create database: %v\n%s", err, out)
	}
	return m
}

// URL is the PLOP_DATABASE_URL of the plop database.
func (m *mariaDB) URL() string { return fmt.Sprintf("mysql://root@127.0.0.1:%d/plop", m.port) }

// start runs the server again on its data dir and port and waits until it answers.
func (m *mariaDB) start(tb testing.TB) {
	tb.Helper()
	if err := m.tryStart(tb); err != nil {
		tb.Fatalf("MariaDB answering: %v", err)
	}
}

func (m *mariaDB) tryStart(tb testing.TB) error {
	tb.Helper()
	m.starts++
	args := append([]string{}, mariadbArgs...)
	args = append(args,
		"--datadir="+filepath.Join(m.dir, "data"),
		"--port="+strconv.Itoa(m.port),
		"--socket="+filepath.Join(m.dir, "mysqld.sock"),
		"--pid-file="+filepath.Join(m.dir, "mysqld.pid"),
	)
	if os.Geteuid() == 0 {
		args = append(args, "--user=root")
	}
	m.proc = startProcFor(tb, m.owner, fmt.Sprintf("mariadb#%d", m.starts), filepath.Join(m.dir, "mariadb.log"), childEnv(), m.bin, args...)
	return poll(60*time.Second, m.proc, func() error {
		out, err := m.sql("SELECT 1")
		if err != nil {
			return fmt.Errorf("%v: %s", err, out)
		}
		return nil
	})
}

// kill ends the server with SIGKILL; InnoDB recovers committed transactions on start.
func (m *mariaDB) kill() { m.proc.kill() }

// sql runs one statement with the command-line client.
func (m *mariaDB) sql(stmt string) ([]byte, error) {
	cmd := exec.Command(m.client, "--no-defaults", "--protocol=tcp", "-h127.0.0.1",
		"-P"+strconv.Itoa(m.port), "-uroot", "--connect-timeout=2", "-e", stmt)
	cmd.Env = childEnv()
	return cmd.CombinedOutput()
}
