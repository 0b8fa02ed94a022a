package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// These tests run every scenario for a second or two with small numbers against a real
// node in this process. They assert the runs' own correctness checks and that each run
// measured something; they assert nothing about speed.

// runScenario runs cfg and fails the test on an error or a failed check.
func runScenario(tb testing.TB, cfg Config) *Result {
	tb.Helper()
	cfg.Timeout = 3 * time.Minute
	if os.Getenv("PLOP_TEST_LOG") == "1" {
		cfg.Progress = testLog{tb}
	}
	res, err := Run(context.Background(), cfg)
	if err != nil {
		tb.Fatalf("%s: %v", cfg.Scenario, err)
	}
	for _, c := range res.Failed() {
		tb.Errorf("%s: check %q failed: %s", cfg.Scenario, c.Name, c.Detail)
	}
	if len(res.Checks) == 0 {
		tb.Errorf("%s: the run checked nothing", cfg.Scenario)
	}
	return res
}

type testLog struct{ tb testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.tb.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// line returns the value of the result's line name; the test fails when there is none.
func line(tb testing.TB, r *Result, name string) float64 {
	tb.Helper()
	for _, l := range r.Lines {
		if l.Name == name {
			return l.Value
		}
	}
	tb.Fatalf("no line %q in %+v", name, r.Lines)
	return 0
}

func TestFriendsThroughTheRESTAPIWithBaseline(t *testing.T) {
	cfg := DefaultConfig("friends")
	cfg.Users, cfg.Friends, cfg.Concurrency, cfg.Duration = 40, 6, 4, time.Second
	cfg.Seed, cfg.Baseline = "api", true
	res := runScenario(t, cfg)
	if res.Ops == 0 || res.Throughput <= 0 || res.Errors != 0 {
		t.Fatalf("%d requests, %.0f/s, %d errors: want some and no errors", res.Ops, res.Throughput, res.Errors)
	}
	if res.Seed.Users != 40 || res.Seed.Friendships != 40*3 {
		t.Errorf("seeded %+v, want 40 users and 120 friendships", *res.Seed)
	}
	if len(res.Latencies) != 2 || res.Latencies[1].Count == 0 {
		t.Fatalf("latencies %+v: want the node's and the baseline's", res.Latencies)
	}
	if line(t, res, "ratio to baseline") <= 0 {
		t.Error("no ratio to the baseline")
	}
	if tl := res.Latencies[0].Timeline; len(tl) == 0 || tl[0].Count == 0 {
		t.Errorf("timeline %+v: want a point per second", tl)
	}
}

func TestFriendsStopsAtMaxOps(t *testing.T) {
	cfg := DefaultConfig("friends")
	cfg.Users, cfg.Friends, cfg.Concurrency, cfg.Duration, cfg.MaxOps = 10, 2, 2, time.Minute, 50
	start := time.Now()
	res := runScenario(t, cfg)
	if res.Ops > 50 || res.Ops < 40 {
		t.Errorf("%d requests, want at most 50 and not much fewer", res.Ops)
	}
	if time.Since(start) > 30*time.Second {
		t.Errorf("the run took %s: the count bound did not stop it", time.Since(start))
	}
}

func TestConnectOpensEverySession(t *testing.T) {
	cfg := DefaultConfig("connect")
	cfg.Sessions, cfg.Users, cfg.RoomSize, cfg.Concurrency, cfg.Duration = 60, 30, 5, 8, 300*time.Millisecond
	cfg.HeartBeat = 200 * time.Millisecond
	res := runScenario(t, cfg)
	if res.Ops != 60 {
		t.Errorf("%d sessions opened, want 60", res.Ops)
	}
	if held := line(t, res, "sessions held"); held != 60 {
		t.Errorf("%v sessions held, want 60", held)
	}
	line(t, res, "memory per session")
}

func TestFanoutDeliversEveryMessageToEverySubscriber(t *testing.T) {
	cfg := DefaultConfig("fanout")
	cfg.RoomSize, cfg.Rates, cfg.StepDuration = 20, []float64{20, 40}, time.Second
	res := runScenario(t, cfg)
	if len(res.Steps) == 0 {
		t.Fatal("no step ran")
	}
	for _, s := range res.Steps {
		if s.Sent == 0 || s.Deliveries != s.Sent*20 || s.Lost != 0 || s.Doubled != 0 {
			t.Errorf("step %.0f msg/s: sent %d, delivered %d (lost %d, doubled %d); want every message to all 20",
				s.Rate, s.Sent, s.Deliveries, s.Lost, s.Doubled)
		}
	}
}

func TestChatLosesAndDoublesNothingThroughChurn(t *testing.T) {
	cfg := DefaultConfig("chat")
	cfg.Users, cfg.RoomSize, cfg.Concurrency, cfg.Rate, cfg.Duration = 24, 5, 8, 150, 2*time.Second
	cfg.Churn, cfg.ReadShare, cfg.TypingShare = 5, 0.5, 0.5
	res := runScenario(t, cfg)
	if res.Ops == 0 { // how many is a matter of speed, which tests do not judge
		t.Error("no message acknowledged")
	}
	if line(t, res, "reconnects") == 0 {
		t.Error("no reconnect happened")
	}
	if line(t, res, "deliveries") == 0 || line(t, res, "read events received") == 0 {
		t.Error("no deliveries or no read receipts")
	}
	names := map[string]uint64{}
	for _, l := range res.Latencies {
		names[l.Name] = l.Count
	}
	for _, n := range []string{"SEND to RECEIPT", "delivery", "read receipt", "typing"} {
		if names[n] == 0 {
			t.Errorf("latency %q recorded nothing (%v)", n, names)
		}
	}
}

func TestChatClosedLoopThroughTheRESTSeedStopsAtMaxOps(t *testing.T) {
	cfg := DefaultConfig("chat")
	cfg.Users, cfg.RoomSize, cfg.Concurrency, cfg.Duration = 10, 5, 4, time.Minute
	cfg.Rate, cfg.MaxOps, cfg.Churn, cfg.Seed = 0, 120, 0, "api"
	res := runScenario(t, cfg)
	if res.Ops != 120 {
		t.Errorf("%d messages acknowledged, want exactly 120", res.Ops)
	}
}

func TestTargetBrokerConnectAndFanout(t *testing.T) {
	b := startTestBroker(t, "bench", "secret")
	cfg := DefaultConfig("connect")
	cfg.Target, cfg.Login, cfg.Passcode = b.URL, "bench", "secret"
	cfg.Sessions, cfg.RoomSize, cfg.Concurrency, cfg.Duration = 30, 10, 4, 200*time.Millisecond
	cfg.TargetPID = os.Getpid()
	res := runScenario(t, cfg)
	if res.Ops != 30 || !strings.HasPrefix(res.Target, "STOMP broker") {
		t.Errorf("%d sessions on %q, want 30 on the broker", res.Ops, res.Target)
	}
	line(t, res, "memory per session")

	cfg = DefaultConfig("fanout")
	cfg.Target, cfg.Login, cfg.Passcode = b.URL, "bench", "secret"
	cfg.RoomSize, cfg.Rates, cfg.StepDuration = 10, []float64{50}, time.Second
	res = runScenario(t, cfg)
	if len(res.Steps) != 1 || res.Steps[0].Deliveries != res.Steps[0].Sent*10 || res.Steps[0].Sent == 0 {
		t.Errorf("steps %+v: want the messages sent delivered to all 10", res.Steps)
	}

	cfg.Passcode = "wrong"
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "access refused") {
		t.Errorf("a wrong passcode: error %v, want the broker's refusal", err)
	}
}

func TestReportsRenderEveryPart(t *testing.T) {
	cfg := DefaultConfig("fanout")
	cfg.RoomSize, cfg.Rates, cfg.StepDuration = 5, []float64{10}, 1500*time.Millisecond
	res := runScenario(t, cfg)

	var page bytes.Buffer
	if err := res.WriteHTML(&page); err != nil {
		t.Fatal(err)
	}
	html := page.String()
	for _, want := range []string{"<svg", "<polyline", "class=\"bar\"", "latency histogram", "p99 &lt; 100 ms"} {
		if !strings.Contains(html, want) {
			t.Errorf("the HTML report has no %q", want)
		}
	}
	if strings.Contains(html, "<script") || strings.Contains(html, "http://") && !strings.Contains(html, "xmlns=\"http://www.w3.org/2000/svg\"") {
		t.Error("the HTML report is not self-contained")
	}

	var table bytes.Buffer
	if err := res.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"p99.9", "deliveries/s", "check every subscriber got every message"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("the table has no %q:\n%s", want, table.String())
		}
	}

	name := t.TempDir() + "/r.json"
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.WriteJSON(f); err != nil {
		t.Fatal(err)
	}
	f.Close()
	back, err := ReadResult(name)
	if err != nil {
		t.Fatal(err)
	}
	if back.Ops != res.Ops || len(back.Steps) != len(res.Steps) || back.Latencies[0].P99 != res.Latencies[0].P99 {
		t.Errorf("JSON round trip changed the result: %+v", back)
	}
	var md bytes.Buffer
	if err := WriteMarkdown(&md, []*Result{back}); err != nil {
		t.Fatal(err)
	}
	if rows := strings.Count(md.String(), "\n"); rows != 3 || !strings.Contains(md.String(), "| fanout |") {
		t.Errorf("markdown:\n%s\nwant a header, a rule and one row", md.String())
	}
}

func TestConfigRefusesWhatItCannotRun(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Config)
		want string
	}{
		{func(c *Config) { c.Scenario = "nope" }, "unknown scenario"},
		{func(c *Config) { c.Target = "http://x" }, "--target works with connect and fanout only"},
		{func(c *Config) { c.URL = "http://127.0.0.1:1"; c.Seed = "app" }, "--seed app"},
		{func(c *Config) { c.Friends = c.Users }, "needs more than"},
		{func(c *Config) { c.MessageSize = 5 }, "--message-size"},
	} {
		cfg := DefaultConfig("friends")
		tc.mut(&cfg)
		_, err := Run(context.Background(), cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("error %v, want %q", err, tc.want)
		}
	}
}

func ExampleRun() {
	cfg := DefaultConfig("friends")
	cfg.Users, cfg.Friends, cfg.Concurrency, cfg.Duration = 20, 4, 2, 500*time.Millisecond
	res, err := Run(context.Background(), cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Scenario, res.Unit, len(res.Failed()) == 0)
	_ = res.WriteTable(io.Discard)
	// Output: friends requests true
}
