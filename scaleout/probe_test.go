package scaleout

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/client"
)

// answer is the outcome of one probe request.
type answer struct {
	status int
	ctype  string
	body   []byte
	took   time.Duration
	err    error
}

func (a answer) String() string {
	if a.err != nil {
		return fmt.Sprintf("error %v after %s", a.err, a.took)
	}
	return fmt.Sprintf("%d %s after %s", a.status, a.body, a.took.Round(time.Millisecond))
}

// probe sends one request through nginx, with a bearer token or a JSON body, and measures it.
func (c *cluster) probe(ctx context.Context, method, path, token string) answer {
	return c.probeJSON(ctx, method, path, token, nil)
}

func (c *cluster) probeJSON(ctx context.Context, method, path, token string, in any) answer {
	start := time.Now()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return answer{err: err}
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.URL()+path, body)
	if err != nil {
		return answer{err: err}
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{err: err, took: time.Since(start)}
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: out, took: time.Since(start), err: err}
}

// maxAnswer bounds every answer during an outage: failing fast, not hanging.
const maxAnswer = 5 * time.Second

// leaks are words of the causes of an outage that must never reach a client.
var leaks = []string{"redis", "mysql", "mariadb", "sql", "dial", "tcp", "refused", "eof", "127.0.0.1", "connection", "broken pipe", "timeout"}

// checkUnavailable fails unless a is the documented 503: a JSON body
// {"error": {"code": "unavailable", "message": ...}} that tells nothing of the cause.
func checkUnavailable(tb testing.TB, what string, a answer) {
	tb.Helper()
	if a.err != nil || a.status != http.StatusServiceUnavailable {
		tb.Fatalf("%s during the outage: %s; want 503", what, a)
	}
	if a.took > maxAnswer {
		tb.Errorf("%s took %s to fail; want under %s", what, a.took, maxAnswer)
	}
	if !strings.HasPrefix(a.ctype, "application/json") {
		tb.Errorf("%s: Content-Type %q, want JSON", what, a.ctype)
	}
	var body map[string]map[string]any
	if err := json.Unmarshal(a.body, &body); err != nil || len(body) != 1 || body["error"] == nil {
		tb.Fatalf("%s: body %s is not {\"error\": {...}}", what, a.body)
	}
	e := body["error"]
	msg, _ := e["message"].(string)
	if e["code"] != plop.EUnavailable || msg == "" || len(e) != 2 {
		tb.Errorf("%s: error %v, want exactly code unavailable and a message", what, e)
	}
	checkNoLeak(tb, what, msg)
}

func checkNoLeak(tb testing.TB, what, msg string) {
	tb.Helper()
	low := strings.ToLower(msg)
	for _, w := range leaks {
		if strings.Contains(low, w) {
			tb.Errorf("%s: the message %q tells the client about the cause (%q)", what, msg, w)
		}
	}
}

// expectOutage probes until three answers in a row are the documented 503; every answer
// meanwhile must be a success or that 503, and come quickly.
func (c *cluster) expectOutage(tb testing.TB, what string, probe func() answer) {
	tb.Helper()
	seen := map[int]int{}
	var slowest time.Duration
	row := 0
	deadline := time.Now().Add(15 * time.Second)
	for row < 3 {
		if time.Now().After(deadline) {
			tb.Fatalf("%s never answered 503 three times in a row; answers by status: %v", what, seen)
		}
		a := probe()
		seen[a.status]++
		slowest = max(slowest, a.took)
		if a.err == nil && a.status == http.StatusOK {
			row = 0
			if a.took > maxAnswer {
				tb.Errorf("%s took %s", what, a.took)
			}
			continue
		}
		checkUnavailable(tb, what, a)
		row++
	}
	tb.Logf("%s while down: answers by status %v, slowest %s", what, seen, slowest.Round(time.Millisecond))
}

// expectRecovery probes until the request succeeds again; until then every answer must be
// the documented 503.
func (c *cluster) expectRecovery(tb testing.TB, what string, probe func() answer) {
	tb.Helper()
	start := time.Now()
	n := 0
	for {
		a := probe()
		n++
		if a.err == nil && a.status == http.StatusOK {
			tb.Logf("%s answered 200 again %s after the restart (%d probes)", what, time.Since(start).Round(time.Millisecond), n)
			return
		}
		checkUnavailable(tb, what+" while recovering", a)
		if time.Since(start) > 30*time.Second {
			tb.Fatalf("%s did not recover within 30s: last %s", what, a)
		}
		time.Sleep(50 * time.Millisecond) // pacing the probes, not synchronizing
	}
}

// expectNotReady waits until every node's /readyz answers 503.
func (c *cluster) expectNotReady(tb testing.TB) {
	tb.Helper()
	c.awaitReadyz(tb, http.StatusServiceUnavailable)
}

// expectReady waits until every node's /readyz answers 200.
func (c *cluster) expectReady(tb testing.TB) {
	tb.Helper()
	c.awaitReadyz(tb, http.StatusOK)
}

func (c *cluster) awaitReadyz(tb testing.TB, want int) {
	tb.Helper()
	for _, nd := range c.nodes {
		waitFor(tb, 20*time.Second, fmt.Sprintf("%s /readyz %d", nd.id, want), nd.proc, func() error {
			resp, err := c.http.Get(nd.URL() + "/readyz")
			if err != nil {
				return err
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != want {
				return fmt.Errorf("%d %s", resp.StatusCode, body)
			}
			if want != http.StatusOK {
				checkNoLeak(tb, nd.id+" /readyz", string(body))
			}
			return nil
		})
	}
}

// expectSTOMPUnavailable connects u through nginx and runs do until it fails as a STOMP
// client must see an outage: an ERROR unavailable, or the connection dropping.
func (c *cluster) expectSTOMPUnavailable(ctx context.Context, tb testing.TB, u *user, what string, do func(*client.STOMPConn) error) {
	tb.Helper()
	var errs codeCounts
	conn, err := c.redial(ctx, u, &errs)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	err = do(conn)
	took := time.Since(start)
	var se *client.STOMPError
	switch {
	case err == nil:
		tb.Fatalf("STOMP %s succeeded during the outage", what)
	case errors.As(err, &se):
		if se.Code != plop.EUnavailable {
			tb.Fatalf("STOMP %s: ERROR %s %q, want unavailable", what, se.Code, se.Message)
		}
		checkNoLeak(tb, "STOMP "+what, se.Message)
	case errors.Is(err, client.ErrSTOMPClosed):
	default:
		tb.Fatalf("STOMP %s: %v, want an ERROR unavailable or a dropped connection", what, err)
	}
	if took > maxAnswer {
		tb.Errorf("STOMP %s took %s to fail", what, took)
	}
	tb.Logf("STOMP %s while down: %v after %s", what, err, took.Round(time.Millisecond))
}

// expectSTOMPAccepted connects u through nginx and runs do, which must succeed.
func (c *cluster) expectSTOMPAccepted(ctx context.Context, tb testing.TB, u *user, what string, do func(*client.STOMPConn) error) {
	tb.Helper()
	var errs codeCounts
	conn, err := c.redial(ctx, u, &errs)
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close()
	if err := do(conn); err != nil {
		tb.Fatalf("STOMP %s: %v", what, err)
	}
}

// awaitGrowth waits until count has grown by n from its value now.
func awaitGrowth(tb testing.TB, what string, count func() int64, n int64) {
	tb.Helper()
	from := count()
	waitFor(tb, 30*time.Second, what, nil, func() error {
		if got := count() - from; got < n {
			return fmt.Errorf("%d of %d", got, n)
		}
		return nil
	})
}
