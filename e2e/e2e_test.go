// Package e2e runs the JavaScript tests of this folder against a real Plop node: the
// interoperability test with the @stomp/stompjs client and the browser test of the web app
// in headless Chromium. Each Go test starts a node, runs `node --test <file>` with the node's
// address in the environment, streams the output to the test log and fails when node does.
//
// They need node (20 or newer), `npm ci` run in this folder and, for the browser test,
// Chromium at /usr/bin/chromium (PLOP_CHROMIUM overrides the path). When one is missing the
// test skips, or fails when PLOP_TEST_REQUIRE_SERVICES=1.
package e2e

import (
	"bufio"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/plop-chat/plop/internal/servertest"
)

// TestStompJS runs stompjs.test.mjs: @stomp/stompjs over ws against /ws.
func TestStompJS(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	srv := servertest.Start(t)
	runNodeTest(t, node, "stompjs.test.mjs", srv, nil)
}

// TestBrowser runs browser.test.mjs: two and three users of the web app in Chromium.
func TestBrowser(t *testing.T) {
	t.Parallel()
	node := requireNode(t)
	chromium := os.Getenv("PLOP_CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(t, "Chromium is not installed at %s (apt-get install chromium, or set PLOP_CHROMIUM): %v", chromium, err)
	}
	srv := servertest.Start(t)
	extra := []string{"PLOP_CHROMIUM=" + chromium}
	if dir := os.Getenv("PLOP_SCREENSHOTS"); dir != "" {
		// A relative folder is taken from the repository root, where `go test ./e2e` is run.
		if !filepath.IsAbs(dir) {
			dir = filepath.Join("..", dir)
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			t.Fatal(err)
		}
		extra = append(extra, "PLOP_SCREENSHOTS="+abs)
	}
	runNodeTest(t, node, "browser.test.mjs", srv, extra)
}

// missing skips the test with the reason, or fails it when the services are required.
func missing(tb testing.TB, format string, args ...any) {
	tb.Helper()
	if os.Getenv("PLOP_TEST_REQUIRE_SERVICES") == "1" {
		tb.Fatalf(format, args...)
	}
	tb.Skipf(format, args...)
}

// requireNode returns the path of node, checking that this folder's packages are installed.
func requireNode(tb testing.TB) string {
	tb.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missing(tb, "node is not installed: %v", err)
	}
	for _, pkg := range []string{"@stomp/stompjs", "ws", "playwright-core"} {
		if _, err := os.Stat(filepath.Join("node_modules", filepath.FromSlash(pkg), "package.json")); err != nil {
			missing(tb, "the e2e packages are not installed (run `npm ci` in e2e/): %v", err)
		}
	}
	return node
}

// runNodeTest runs `node --test file` with the node's addresses in the environment and fails
// the test unless it exits 0.
func runNodeTest(t *testing.T, node, file string, srv *servertest.Server, extraEnv []string) {
	t.Helper()
	timeout := 5 * time.Minute
	if d, ok := t.Deadline(); ok && time.Until(d)-10*time.Second < timeout {
		timeout = time.Until(d) - 10*time.Second
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()

	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", file)
	cmd.Env = append(os.Environ(),
		"PLOP_URL="+srv.URL,
		"PLOP_WS_URL="+srv.WSURL,
		"PLOP_DATA_DIR="+srv.DataDir,
		"NO_COLOR=1",
	)
	cmd.Env = append(cmd.Env, extraEnv...)
	// node --test runs the file in a child process: stop the whole group on timeout.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second

	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start node: %v", err)
	}
	var wg sync.WaitGroup
	stream := func(r io.Reader) {
		defer wg.Done()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			if line := sc.Text(); strings.TrimSpace(line) != "" {
				t.Log(line)
			}
		}
	}
	wg.Add(2)
	go stream(stdout)
	go stream(stderr)
	wg.Wait()
	err = cmd.Wait()
	if ctx.Err() != nil {
		t.Fatalf("node --test %s did not finish within %s", file, timeout)
	}
	if err != nil {
		t.Fatalf("node --test %s: %v", file, err)
	}
}
