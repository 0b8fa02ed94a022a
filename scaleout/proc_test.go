package scaleout

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// proc is a child process of the test whose output goes to a log file. It runs in its own
// process group, so that killing it also kills the workers it forked (nginx), and it is
// killed when the test ends, or when the test binary dies.
type proc struct {
	name    string
	logPath string
	cmd     *exec.Cmd

	done chan struct{} // closed when the process has exited
	mu   sync.Mutex
	err  error // its exit status, once done
}

// startProc starts bin with args and env, its stdout and stderr appended to logPath. The
// process is killed in tb.Cleanup, and the tail of its log is printed when the test failed.
func startProc(tb testing.TB, name, logPath string, env []string, bin string, args ...string) *proc {
	tb.Helper()
	return startProcFor(tb, tb, name, logPath, env, bin, args...)
}

// startProcFor is startProc for a process that outlives the (sub)test tb that starts it:
// it is killed when owner ends.
func startProcFor(tb, owner testing.TB, name, logPath string, env []string, bin string, args ...string) *proc {
	tb.Helper()
	p, err := spawn(name, logPath, env, bin, args...)
	if err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	owner.Cleanup(func() {
		p.kill()
		if owner.Failed() {
			lines := 40
			if !strings.HasPrefix(p.name, "node") {
				lines = 12
			}
			tb.Logf("--- %s: last lines of %s ---\n%s", p.name, filepath.Base(p.logPath), p.tail(lines))
		}
	})
	return p
}

func spawn(name, logPath string, env []string, bin string, args ...string) (*proc, error) {
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	defer f.Close() // the child has its own copy
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", bin, err)
	}
	p := &proc{name: name, logPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// exited reports whether the process has ended.
func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// exitErr returns how the process ended: nil for status 0. Call it once it has exited.
func (p *proc) exitErr() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// kill sends SIGKILL to the process group and waits for the process to be reaped.
func (p *proc) kill() {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
	}
}

// stop sends SIGTERM and waits up to grace for the process to end, then kills it.
func (p *proc) stop(grace time.Duration) {
	if p.exited() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.kill()
	}
}

// log returns the whole log file.
func (p *proc) log() string {
	b, _ := os.ReadFile(p.logPath)
	return string(b)
}

// tail returns the last n lines of the log.
func (p *proc) tail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// errExited is returned by waits on a process that has ended.
var errExited = errors.New("process exited")

// waitFor polls check every 25 ms until it returns nil, failing the test with the last
// error after timeout. A nil p is not watched; otherwise the wait ends early when p exits.
func waitFor(tb testing.TB, timeout time.Duration, what string, p *proc, check func() error) {
	tb.Helper()
	if err := poll(timeout, p, check); err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// poll is waitFor returning the error instead of failing.
func poll(timeout time.Duration, p *proc, check func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := check()
		if err == nil {
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%w (%s): last error %v; log:\n%s", errExited, p.name, err, p.tail(20))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("still failing after %s: %w", timeout, err)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// requireTool returns the path of the first of names found on PATH or in /usr/sbin and
// /usr/local/sbin (nginx and mariadbd live there); without one the test skips, or fails
// under PLOP_TEST_REQUIRE_SERVICES=1.
func requireTool(tb testing.TB, why string, names ...string) string {
	tb.Helper()
	for _, n := range names {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
		for _, dir := range []string{"/usr/sbin", "/usr/local/sbin"} {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
				return p
			}
		}
	}
	msg := fmt.Sprintf("%s not found: the multi-node tests need it for %s (Debian: apt-get install %s)",
		strings.Join(names, " or "), why, debianPackage(names[0]))
	if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatal(msg + "; PLOP_TEST_REQUIRE_SERVICES=1 makes this a failure")
	}
	tb.Skip(msg)
	return ""
}

func debianPackage(tool string) string {
	switch tool {
	case "redis-server":
		return "redis-server"
	case "nginx":
		return "nginx"
	default:
		return "mariadb-server"
	}
}

// childEnv returns the test's environment without any PLOP_* variable, plus extra.
func childEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PLOP_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// logContains reports whether the log of p contains s.
func logContains(p *proc, s string) bool {
	b, err := os.ReadFile(p.logPath)
	return err == nil && bytes.Contains(b, []byte(s))
}
