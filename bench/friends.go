package bench

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"github.com/plop-chat/plop/client"
)

// friendsPath is the call the friends scenario makes: the original team's load test.
const friendsPath = "/api/v1/friends"

// runFriends seeds Users users with Friends friends each (user i befriends users i+1 ..
// i+Friends/2, wrapping around), then has Concurrency virtual users call GET
// /api/v1/friends for them in turn.
func runFriends(ctx context.Context, cfg Config, nodes cluster, res *Result) error {
	n := nodes.first()
	sd, err := newSeeder(cfg, n)
	if err != nil {
		return err
	}
	defer sd.close()
	res.Seed = &sd.stats
	half := cfg.Friends / 2
	users := cfg.reused
	if users != nil {
		sd.stats = SeedStats{Method: "reused from " + cfg.Reuse, Users: len(users), Friendships: len(users) * half}
		fmt.Fprintf(cfg.Progress, "reusing %d users seeded in %s\n", len(users), cfg.Reuse)
	} else {
		if users, err = sd.users(ctx, cfg.Users); err != nil {
			return err
		}
		pairs := make([][2]int, 0, cfg.Users*half)
		for i := range cfg.Users {
			for k := 1; k <= half; k++ {
				pairs = append(pairs, [2]int{i, (i + k) % cfg.Users})
			}
		}
		if err := sd.friendships(ctx, users, pairs); err != nil {
			return err
		}
		if cfg.Reuse != "" {
			if err := saveSeed(cfg.Reuse, friendsSeedKey(cfg), users); err != nil {
				return err
			}
		}
	}

	// Every user must see exactly its friends; check a few through the Go client.
	c := client.New(n.url)
	for _, i := range []int{0, cfg.Users / 2, cfg.Users - 1} {
		fs, err := c.WithToken(users[i].Token).Friends(ctx)
		if err != nil {
			return fmt.Errorf("friends of seeded user %d: %w", i, err)
		}
		res.check(fmt.Sprintf("user %d has %d friends", i, 2*half), len(fs) == 2*half, "the node lists %d", len(fs))
	}

	u, _ := url.Parse(n.url)
	reqs := make([][]byte, len(users))
	for i, us := range users {
		reqs[i] = getRequest(u.Host, friendsPath, us.Token)
	}
	var addrs []string
	for _, m := range nodes {
		mu, _ := url.Parse(m.url)
		addrs = append(addrs, mu.Host)
	}
	warm := &httpLoad{addrs: addrs, reqs: reqs, conc: cfg.Concurrency, duration: min(2*time.Second, cfg.Duration/5),
		maxOps: cfg.MaxOps, meter: NewMeter("warm-up")}
	warm.run(ctx)

	meter := NewMeter("GET /friends")
	load := &httpLoad{addrs: addrs, reqs: reqs, conc: cfg.Concurrency, rate: cfg.Rate, duration: cfg.Duration,
		maxOps: cfg.MaxOps, meter: meter}
	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	cw := startCPUWatch(ctx, nodes, 0)
	p := startProgress(cfg.Progress, "requests", nil, meter)
	load.run(ctx)
	elapsed := p.Stop()
	stopProfile()

	lat := summarize(meter)
	res.Seconds = elapsed.Seconds()
	res.Unit = "requests"
	res.Ops = int64(lat.Count)
	res.Errors = meter.Errors()
	res.Throughput = float64(lat.Count) / elapsed.Seconds()
	res.Latencies = append(res.Latencies, lat)
	res.line("friends per user", float64(2*half), "", "")
	res.line("virtual users", float64(cfg.Concurrency), "", "")
	if lat.Count > 0 {
		res.line("answer size", float64(load.bytes.Load())/float64(lat.Count), "bytes", "mean")
	}
	cw.stop(ctx, res, res.Ops, "requests")
	res.check("no failed requests", res.Errors == 0, "%d failed%s", res.Errors, statusDetail(load.statusCounts()))

	if cfg.Baseline {
		if err := friendsBaseline(ctx, cfg, users, n.url, res); err != nil {
			return fmt.Errorf("baseline: %w", err)
		}
	}
	return nil
}

// friendsSeedKey names what the friends scenario seeds, for --reuse.
func friendsSeedKey(cfg Config) string {
	return fmt.Sprintf("friends users=%d friends=%d database=%s", cfg.Users, cfg.Friends, redactURL(cfg.DatabaseURL))
}

// friendsBaseline captures every user's friends answer from the node, serves those bytes
// from memory with a minimal net/http handler on another port, and runs the same load at it.
func friendsBaseline(ctx context.Context, cfg Config, users []*user, nodeURL string, res *Result) error {
	bodies := make(map[string][]byte, len(users))
	got := make([][]byte, len(users))
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.SeedConcurrency}}
	defer hc.CloseIdleConnections()
	err := parallel(ctx, cfg.Progress, "capture", len(users), cfg.SeedConcurrency, func(ctx context.Context, i int) error {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, nodeURL+friendsPath, nil)
		req.Header.Set("Authorization", "Bearer "+users[i].Token)
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		got[i], err = io.ReadAll(resp.Body)
		return err
	})
	if err != nil {
		return err
	}
	for i, u := range users {
		bodies["Bearer "+u.Token] = got[i]
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+friendsPath, func(w http.ResponseWriter, r *http.Request) {
		b, ok := bodies[r.Header.Get("Authorization")]
		if !ok {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(b)
	})
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	defer hs.Close()

	addr := ln.Addr().String()
	reqs := make([][]byte, len(users))
	for i, u := range users {
		reqs[i] = getRequest(addr, friendsPath, u.Token)
	}
	fmt.Fprintln(cfg.Progress, "baseline: the same load at a minimal handler serving the same JSON from memory")
	meter := NewMeter("baseline GET /friends")
	load := &httpLoad{addrs: []string{addr}, reqs: reqs, conc: cfg.Concurrency, rate: cfg.Rate, duration: cfg.Duration,
		maxOps: cfg.MaxOps, meter: meter}
	cpu0 := selfCPU()
	p := startProgress(cfg.Progress, "requests", nil, meter)
	load.run(ctx)
	elapsed := p.Stop()
	cpu := selfCPU() - cpu0
	lat := summarize(meter)
	res.Latencies = append(res.Latencies, lat)
	rate := float64(lat.Count) / elapsed.Seconds()
	res.line("baseline throughput", rate, "req/s", "minimal handler, same JSON, same load")
	if rate > 0 {
		res.line("ratio to baseline", 100*res.Throughput/rate, "%", "")
	}
	if cpu > 0 {
		perCPU := float64(lat.Count) / cpu
		res.line("baseline requests per CPU-second", perCPU, "", "handler and generator in this process")
		for _, l := range res.Lines {
			if l.Name == "requests per CPU-second" && perCPU > 0 {
				res.line("ratio to baseline per CPU-second", 100*l.Value/perCPU, "%", "robust to other work on the machine")
				break
			}
		}
	}
	return nil
}

// statusDetail describes failures by status for a check's detail.
func statusDetail(counts map[int]int64) string {
	if len(counts) == 0 {
		return ""
	}
	var parts []string
	for s, n := range counts {
		name := fmt.Sprintf("status %d", s)
		if s == 0 {
			name = "no answer"
		}
		parts = append(parts, fmt.Sprintf("%s: %d", name, n))
	}
	sort.Strings(parts)
	return " (" + strings.Join(parts, ", ") + ")"
}
