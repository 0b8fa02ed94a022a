package realtime_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop/realtime"
)

// The idle-memory test opens its sessions from a child process (this test binary run as a
// client), so that only the server's memory is in this process when it is measured.
const (
	envIdleURL    = "PLOP_IDLE_CLIENT_URL"
	envIdleTokens = "PLOP_IDLE_CLIENT_TOKENS"
)

// TestIdleSessionMemory holds PLOP_IDLE_SESSIONS (default 2,000) idle sessions on one node,
// each CONNECTed as a real user and subscribed to its personal queue and to a group room of
// its user (as plop bench connect does), and checks that they cost at most 12 KiB of server
// memory each (Go heap in use plus goroutine stacks).
func TestIdleSessionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("opens thousands of connections")
	}
	heap, stack := measureIdle(t, idleSessions(t))
	if raceEnabled {
		t.Log("the budget is not checked under the race detector, which doubles stacks")
		return
	}
	if heap+stack > 12 {
		t.Errorf("%.2f KiB per idle session, over the 12 KiB budget", heap+stack)
	}
}

// BenchmarkIdleSessionMemory reports the server memory of an idle session, as
// TestIdleSessionMemory measures it; run it with -benchtime=1x (b.N is not used).
func BenchmarkIdleSessionMemory(b *testing.B) {
	heap, stack := measureIdle(b, idleSessions(b))
	b.ReportMetric(heap, "heap-KiB/session")
	b.ReportMetric(stack, "stack-KiB/session")
	b.ReportMetric(heap+stack, "KiB/session")
}

func idleSessions(tb testing.TB) int {
	v := os.Getenv("PLOP_IDLE_SESSIONS")
	if v == "" {
		return 2000
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		tb.Fatalf("PLOP_IDLE_SESSIONS: %v", err)
	}
	return n
}

// measureIdle opens sessions idle sessions from a child process and returns the growth of
// this process's heap in use and goroutine stacks, in KiB per session.
func measureIdle(tb testing.TB, sessions int) (heapKiB, stackKiB float64) {
	tb.Helper()
	n := startNode(tb, realtime.Options{})
	// 100 users in groups of 10; each session subscribes to its user's group.
	const users, groupSize = 100, 10
	all := make([]user, users)
	for i := range all {
		all[i] = n.newUser(tb, fmt.Sprintf("User%d", i))
	}
	lines := make([]string, users)
	for g := 0; g < users; g += groupSize {
		room := n.group(tb, all[g], all[g+1:g+groupSize]...)
		for i := g; i < g+groupSize; i++ {
			lines[i] = all[i].Token + " " + room
		}
	}
	tokenFile := tb.TempDir() + "/tokens"
	if err := os.WriteFile(tokenFile, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		tb.Fatal(err)
	}

	before := serverMemory()
	cmd := exec.Command(os.Args[0], "-test.run=^TestIdleClientsHelper$", "-test.v")
	cmd.Env = append(os.Environ(), envIdleURL+"="+n.WSURL, envIdleTokens+"="+tokenFile, "PLOP_IDLE_SESSIONS="+strconv.Itoa(sessions))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	defer func() {
		stdin.Close()
		cmd.Wait()
	}()
	out := bufio.NewScanner(stdout)
	ready := false
	for out.Scan() {
		if strings.HasPrefix(out.Text(), "READY") {
			ready = true
			break
		}
	}
	if !ready {
		tb.Fatalf("the client process did not get its %d sessions up", sessions)
	}
	if got := counter(tb, n, "plop_ws_connections"); got != float64(sessions) {
		tb.Fatalf("%v connections open, want %d", got, sessions)
	}
	after := serverMemory()
	if path := os.Getenv("PLOP_IDLE_HEAP_PROFILE"); path != "" {
		f, err := os.Create(path)
		if err != nil {
			tb.Fatal(err)
		}
		pprof.Lookup("heap").WriteTo(f, 0)
		f.Close()
	}
	per := func(a, b uint64) float64 { return float64(int64(a)-int64(b)) / float64(sessions) / 1024 }
	heapKiB, stackKiB = per(after.heap, before.heap), per(after.stack, before.stack)
	tb.Logf("%d idle sessions up in %v: %.2f KiB heap + %.2f KiB stack = %.2f KiB per session (%d goroutines; Sys grew %.2f KiB per session)",
		sessions, time.Since(start).Round(time.Millisecond), heapKiB, stackKiB, heapKiB+stackKiB, after.goroutines, per(after.sys, before.sys))
	return heapKiB, stackKiB
}

type memSample struct {
	heap, stack, sys uint64
	goroutines       int
}

// serverMemory returns this process's goroutine stacks as they are, then its heap in use
// after collecting the garbage. Stacks are read first because every collection halves the
// stacks that use little of theirs: an idle connection's stack is what it is between the
// collections that load brings, not after several forced ones in a row.
func serverMemory() memSample {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	stack := ms.StackInuse
	for range 4 {
		runtime.GC()
	}
	runtime.ReadMemStats(&ms)
	return memSample{heap: ms.HeapInuse, stack: stack, sys: ms.Sys, goroutines: runtime.NumGoroutine()}
}

// TestIdleClientsHelper is the client process of TestIdleSessionMemory; it does nothing
// when run on its own.
func TestIdleClientsHelper(t *testing.T) {
	wsURL := os.Getenv(envIdleURL)
	if wsURL == "" {
		t.Skip("run by TestIdleSessionMemory")
	}
	raw, err := os.ReadFile(os.Getenv(envIdleTokens))
	if err != nil {
		t.Fatal(err)
	}
	tokens := strings.Split(string(raw), "\n")
	sessions, _ := strconv.Atoi(os.Getenv("PLOP_IDLE_SESSIONS"))
	u, _ := url.Parse(wsURL)
	conns := make([]net.Conn, 0, sessions)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	const parallel = 32
	type result struct {
		nc  net.Conn
		err error
	}
	results := make(chan result, parallel)
	started := 0
	for len(conns) < sessions {
		for started < sessions && started-len(conns) < parallel {
			go func(line string) {
				tok, room, _ := strings.Cut(line, " ")
				nc, err := idleSession(u, tok, room)
				results <- result{nc, err}
			}(tokens[started%len(tokens)])
			started++
		}
		r := <-results
		if r.err != nil {
			t.Fatalf("session %d: %v", len(conns), r.err)
		}
		conns = append(conns, r.nc)
	}
	fmt.Println("READY", len(conns))
	io.Copy(io.Discard, os.Stdin) // hold the sessions until the parent is done
}

// idleSession opens a WebSocket, CONNECTs with tok and no heart-beats, subscribes to the
// personal queue and to room, and waits for the RECEIPTs; then the session is left idle.
func idleSession(u *url.URL, tok, room string) (net.Conn, error) {
	nc, err := net.DialTimeout("tcp", u.Host, 10*time.Second)
	if err != nil {
		return nil, err
	}
	req := "GET " + u.Path + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: v12.stomp\r\n\r\n"
	frames := "CONNECT\naccept-version:1.2\nheart-beat:0,0\nAuthorization:Bearer " + tok + "\n\n\x00" +
		"SUBSCRIBE\nid:q\ndestination:/user/queue/events\nreceipt:q\n\n\x00" +
		"SUBSCRIBE\nid:r\ndestination:/topic/rooms." + room + "\nreceipt:ready\n\n\x00"
	nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := nc.Write(append([]byte(req), maskedText([]byte(frames))...)); err != nil {
		nc.Close()
		return nil, err
	}
	br := bufio.NewReaderSize(nc, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		nc.Close()
		return nil, fmt.Errorf("handshake: %v %v", resp, err)
	}
	// Frames come in order: once the last SUBSCRIBE's RECEIPT is in, everything is set up
	// (presence MESSAGEs from friends may come in between).
	for ready := false; !ready; {
		p, err := readPayload(br)
		if err != nil {
			nc.Close()
			return nil, err
		}
		if bytes.HasPrefix(p, []byte("ERROR")) {
			nc.Close()
			return nil, fmt.Errorf("server said %q", p)
		}
		ready = bytes.Contains(p, []byte("receipt-id:ready\n"))
	}
	nc.SetDeadline(time.Time{})
	return nc, nil
}
