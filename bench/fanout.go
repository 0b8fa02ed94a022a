package bench

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop/stomp"
)

// fanoutLatencyTarget is the p99 a step must stay under.
const fanoutLatencyTarget = 100 * time.Millisecond

// fanout is the state of a fanout run shared with the subscribers' read goroutines.
type fanout struct {
	subscribers int
	counts      []atomic.Int32 // deliveries per message index
	delivery    *Meter         // every delivery of the run
	steps       []*fanoutStep
	foreign     atomic.Int64 // MESSAGE frames without a marker
}

type fanoutStep struct {
	delivery    *Meter
	receipt     *Meter
	first, end  int // message indexes [first, end)
	acked       []atomic.Bool
	lastArrival atomic.Int64
}

// runFanout subscribes RoomSize sessions to one room (on Plop, a group of RoomSize seeded
// users; elsewhere, one topic) and has one more session send to it at each rate of Rates for
// StepDuration. n is nil for a --target broker.
func runFanout(ctx context.Context, cfg Config, n cluster, res *Result) error {
	total := 0
	for _, r := range cfg.Rates {
		total += int(math.Ceil(r*cfg.StepDuration.Seconds())) + 1
	}
	fo := &fanout{subscribers: cfg.RoomSize, counts: make([]atomic.Int32, total), delivery: NewMeter("delivery")}
	for _, rate := range cfg.Rates {
		// Made before any subscriber reads them.
		fo.steps = append(fo.steps, &fanoutStep{delivery: NewMeter(fmt.Sprintf("delivery at %.0f msg/s", rate)), receipt: NewMeter("receipt")})
	}
	dests, err := planFanout(ctx, cfg, n, res)
	if err != nil {
		return err
	}
	subs := make([]*stompSession, cfg.RoomSize)
	defer func() {
		_ = parallel(context.WithoutCancel(ctx), cfg.Progress, "close", len(subs), 64, func(ctx context.Context, i int) error {
			if subs[i] != nil {
				subs[i].close()
			}
			return nil
		})
	}()
	err = parallel(ctx, cfg.Progress, "subscribe", cfg.RoomSize, 32, func(ctx context.Context, i int) error {
		s, err := dests.dial(ctx, i, func(f *stomp.Frame) { fo.deliver(i, f) })
		if err != nil {
			return err
		}
		subs[i] = s
		return s.subscribe(ctx, "room", dests.subscribeTo)
	})
	if err != nil {
		return err
	}
	sender, err := dests.dial(ctx, -1, nil)
	if err != nil {
		return fmt.Errorf("sender: %w", err)
	}
	defer sender.close()

	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	defer stopProfile()
	receipts := NewMeter("receipt")
	cw := startCPUWatch(ctx, n, cfg.TargetPID)
	p := startProgress(cfg.Progress, "deliveries", nil, fo.delivery, receipts)
	best, misses := -1, 0
	next := 0
	for k, rate := range cfg.Rates {
		fmt.Fprintf(cfg.Progress, "step %d: %.0f messages/s to %d subscribers (%.0f deliveries/s)\n", k+1, rate, cfg.RoomSize, rate*float64(cfg.RoomSize))
		step, err := fo.runStep(ctx, cfg, sender, dests.sendTo, k, rate, next, receipts)
		next = fo.steps[k].end
		if gone := int64(len(subs)) - countOpen(subs); gone > 0 {
			step.Disconnected = gone
			step.UnderTarget = false
			step.StopReason = strings.TrimPrefix(step.StopReason+fmt.Sprintf(", %d subscribers disconnected", gone), ", ")
			if gone == int64(len(subs)) || k == 0 {
				fmt.Fprintf(cfg.Progress, "a subscriber's session ended: %v\n", firstEnd(subs))
			}
		}
		res.Steps = append(res.Steps, step)
		if err != nil {
			p.Stop()
			return err
		}
		// One step over the target may be a hiccup of a shared machine; two in a row end
		// the run.
		if step.UnderTarget {
			best, misses = k, 0
		} else if misses++; misses == 2 {
			break
		}
	}
	elapsed := p.Stop()

	res.Seconds = elapsed.Seconds()
	res.Unit = "deliveries"
	all := summarize(fo.delivery)
	res.Ops = int64(all.Count)
	res.Errors = receipts.Errors()
	res.Latencies = append(res.Latencies, all, summarize(receipts))
	res.line("subscribers", float64(cfg.RoomSize), "", "")
	cw.stop(ctx, res, res.Ops, "deliveries")
	if best >= 0 {
		s := res.Steps[best]
		res.Throughput = s.DeliveryRate
		res.line("highest rate with p99 < 100 ms", s.DeliveryRate, "deliveries/s", fmt.Sprintf("%.0f messages/s, p99 %s ms", s.SendRate, fmtMS(s.P99)))
	} else {
		res.line("highest rate with p99 < 100 ms", 0, "deliveries/s", "no step stayed under 100 ms")
	}
	if f := fo.foreign.Load(); f > 0 {
		res.line("other MESSAGE frames", float64(f), "", "without a marker")
	}
	var lostKept, doubled int64
	for _, s := range res.Steps {
		doubled += s.Doubled
		if s.StopReason == "" || s.P99 < 1000 {
			lostKept += s.Lost
		}
	}
	res.check("every subscriber got every message", lostKept == 0, "%d deliveries lost in the steps the target kept up with", lostKept)
	res.check("no message delivered twice", doubled == 0, "%d doubled", doubled)
	gone := int64(len(subs)) - countOpen(subs)
	res.check("no subscriber disconnected", gone == 0, "%d of %d", gone, len(subs))
	return nil
}

// deliver runs on subscriber sub's read goroutine for each MESSAGE frame.
func (fo *fanout) deliver(sub int, f *stomp.Frame) {
	step, idx, sent, ok := parseMarker(f.Body)
	if !ok || step >= len(fo.steps) || idx >= len(fo.counts) {
		fo.foreign.Add(1)
		return
	}
	t := now()
	lat := time.Duration(t - sent)
	fo.delivery.Shard(sub).Record(lat)
	st := fo.steps[step]
	st.delivery.Shard(sub).Record(lat)
	fo.counts[idx].Add(1)
	for {
		last := st.lastArrival.Load()
		if t <= last || st.lastArrival.CompareAndSwap(last, t) {
			break
		}
	}
}
