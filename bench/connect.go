package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// runConnect opens Sessions STOMP sessions, Concurrency at a time (at Rate per second when
// set), each subscribed to its user's queue and to one room, holds them idle for Duration,
// and reports the connect rate and the memory the target gained per session. n is nil for
// a --target broker.
func runConnect(ctx context.Context, cfg Config, n cluster, res *Result) error {
	need := uint64(cfg.Sessions + 256)
	if n != nil && n.inProcess() {
		need += uint64(cfg.Sessions) // the node's end of each socket is in this process too
	}
	if lim := openFileLimit(); lim > 0 && need > lim {
		return fmt.Errorf("%d sessions need about %d open files and this process may have %d: "+
			"use --spawn (or --url) so that the node's sockets count against its own limit", cfg.Sessions, need, lim)
	}
	plan, err := planSessions(ctx, cfg, n, res)
	if err != nil {
		return err
	}
	before, err := targetMemory(ctx, cfg, n)
	if err != nil {
		cfg.Logger.Warn("read memory", "err", err)
	}
	clientBefore := clientHeap()

	meter := NewMeter("connect")
	sessions := make([]*stompSession, cfg.Sessions)
	var opened atomic.Int64
	var pace <-chan time.Time
	if cfg.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / cfg.Rate))
		defer t.Stop()
		pace = t.C
	}
	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	cw := startCPUWatch(ctx, n, cfg.TargetPID)
	p := startProgress(cfg.Progress, "sessions", func() string { return fmt.Sprintf("opened %d", opened.Load()) }, meter)
	var next atomic.Int64
	var wg sync.WaitGroup
	rampCtx, cancelRamp := context.WithCancel(ctx)
	defer cancelRamp()
	for w := range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := meter.Shard(w)
			for rampCtx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= cfg.Sessions {
					return
				}
				if pace != nil {
					select {
					case <-pace:
					case <-rampCtx.Done():
						return
					}
				}
				start := time.Now()
				s, err := plan.open(rampCtx, i)
				if err != nil {
					meter.Error()
					if meter.Errors() == 1 {
						cfg.Logger.Warn("open session", "session", i, "err", err)
						fmt.Fprintf(cfg.Progress, "session %d: %v\n", i, err)
					}
					if meter.Errors() > int64(cfg.Sessions/10+10) {
						cancelRamp() // the target refuses: no point in hammering it
					}
					continue
				}
				rec.Record(time.Since(start))
				sessions[i] = s
				opened.Add(1)
			}
		}()
	}
	wg.Wait()
	ramp := p.Stop()
	rampCPU := cw.finish(ctx)
	established := int64(meter.Snapshot().Count())
	hb := startHeartBeats(sessions, cfg.HeartBeat)
	fmt.Fprintf(cfg.Progress, "holding %d sessions for %s\n", established, cfg.Duration)
	openBefore := countOpen(sessions)
	select {
	case <-time.After(cfg.Duration):
	case <-ctx.Done():
	}
	held := countOpen(sessions)
	droppedDuringHold := openBefore - held
	if why := firstEnd(sessions); why != nil {
		fmt.Fprintf(cfg.Progress, "a session ended: %v\n", why)
	}
	after, err := targetMemory(ctx, cfg, n)
	if err != nil {
		cfg.Logger.Warn("read memory", "err", err)
	}
	clientAfter := clientHeap()
	stopProfile()
	hb.stop()

	_ = parallel(context.WithoutCancel(ctx), cfg.Progress, "close", len(sessions), 64, func(ctx context.Context, i int) error {
		if s := sessions[i]; s != nil {
			s.close()
		}
		return nil
	})

	res.Seconds = ramp.Seconds()
	res.Unit = "sessions"
	res.Ops = established
	res.Errors = meter.Errors()
	res.Throughput = float64(established) / ramp.Seconds()
	res.Latencies = append(res.Latencies, summarize(meter))
	res.line("connect rate", res.Throughput, "sessions/s", "dial, WebSocket, CONNECT, two SUBSCRIBE receipts")
	res.line("sessions held", float64(held), "", fmt.Sprintf("open after %s idle", cfg.Duration))
	rampCPU.report(res, established, "sessions")
	reportMemory(res, cfg, n, before, after, established)
	if established > 0 && (n == nil || !n.inProcess()) {
		res.line("generator heap per session", float64(clientAfter-clientBefore)/float64(established)/1024, "KiB", "Go heap and stacks of this process")
	}
	res.check("every session opened", established == int64(cfg.Sessions), "%d of %d", established, cfg.Sessions)
	res.check("no session dropped while idle", droppedDuringHold == 0, "%d dropped", droppedDuringHold)
	return nil
}

// countOpen returns how many of sessions are still open.
func countOpen(sessions []*stompSession) int64 {
	var n int64
	for _, s := range sessions {
		if s == nil {
			continue
		}
		select {
		case <-s.done:
		default:
			n++
		}
	}
	return n
}

// firstEnd returns why the first of sessions that ended did, nil when none did.
func firstEnd(sessions []*stompSession) error {
	for _, s := range sessions {
		if s == nil {
			continue
		}
		select {
		case <-s.done:
			return s.reason()
		default:
		}
	}
	return nil
}

// targetMemory reads the memory of the node, or of the --target broker's process.
func targetMemory(ctx context.Context, cfg Config, n cluster) (memSample, error) {
	if n != nil {
		return n.memory(ctx)
	}
	s := memSample{RSS: -1, Heap: -1, Stack: -1}
	if cfg.TargetPID <= 0 {
		return s, nil
	}
	rss, err := procRSS(cfg.TargetPID)
	s.RSS = rss
	return s, err
}

// reportMemory adds the memory-per-session lines.
func reportMemory(res *Result, cfg Config, n cluster, before, after memSample, sessions int64) {
	if sessions <= 0 {
		return
	}
	who := "the broker's RSS (--target-pid)"
	if n != nil {
		who = "the node's RSS"
		if len(n) > 1 {
			who = "the nodes' RSS, summed"
		}
		if n.inProcess() {
			who = "RSS of this process: node and generator together; use --spawn for the node alone"
		}
	}
	if before.RSS >= 0 && after.RSS >= 0 {
		res.line("memory per session", float64(after.RSS-before.RSS)/float64(sessions)/1024, "KiB", who)
		res.line("memory before, after", float64(before.RSS>>20), "MiB", fmt.Sprintf("after: %d MiB", after.RSS>>20))
	} else if n == nil {
		res.line("memory per session", -1, "", "unknown: give --target-pid")
	}
	if before.Heap >= 0 && after.Heap >= 0 {
		res.line("Go heap+stacks per session", float64(after.Heap+after.Stack-before.Heap-before.Stack)/float64(sessions)/1024, "KiB", "")
	}
}

// heartBeats sends a heart-beat on every session once per interval from one goroutine.
type heartBeats struct {
	done chan struct{}
	wg   sync.WaitGroup
}

func startHeartBeats(sessions []*stompSession, interval time.Duration) *heartBeats {
	h := &heartBeats{done: make(chan struct{})}
	if interval <= 0 {
		return h
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		for {
			select {
			case <-h.done:
				return
			case <-t.C:
				for _, s := range sessions {
					if s != nil {
						_ = s.heartBeat()
					}
				}
			}
		}
	}()
	return h
}

func (h *heartBeats) stop() { close(h.done); h.wg.Wait() }
