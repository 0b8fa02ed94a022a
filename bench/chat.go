package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// runChat seeds Users users in group rooms of RoomSize and direct rooms, connects each
// user (one STOMP session on its queue, through the public client), sends messages for
// Duration with typing indicators, read receipts and reconnect churn, and then verifies
// against every room's history that nothing acknowledged was lost or doubled and that
// every member received every message once.
func runChat(ctx context.Context, cfg Config, n cluster, res *Result) error {
	sd, err := newSeeder(cfg, n.first())
	if err != nil {
		return err
	}
	defer sd.close()
	res.Seed = &sd.stats
	w, err := seedChat(ctx, cfg, n, sd)
	if err != nil {
		return err
	}
	defer w.rest.CloseIdleConnections()
	// The world lives until verification is done; the sends stop at the end of Duration.
	worldCtx, stopWorld := context.WithCancel(ctx)
	defer stopWorld()
	if err := w.connectAll(worldCtx); err != nil {
		return err
	}
	defer w.closeAll(ctx)

	s := &chatSender{w: w, cfg: cfg, runID: randomHex(3),
		receipt: NewMeter("SEND to RECEIPT"), read: NewMeter("read receipt"), typing: NewMeter("typing")}
	stopProfile, err := startCPUProfile(cfg.CPUProfile)
	if err != nil {
		return err
	}
	cw := startCPUWatch(ctx, n, 0)
	p := startProgress(cfg.Progress, "messages", func() string {
		return fmt.Sprintf("deliveries %d  reconnects %d", w.deliveries.Load(), w.reconnects.Load()+w.unplanned.Load())
	}, s.receipt, w.delivery, s.read, s.typing)
	sendCtx, stopSending := context.WithTimeout(worldCtx, cfg.Duration)
	defer stopSending()
	churnDone := w.churn(sendCtx)
	s.run(sendCtx)
	elapsed := p.Stop()
	stopProfile()
	<-churnDone

	fmt.Fprintln(cfg.Progress, "waiting for the last deliveries")
	quiesce(ctx, &w.deliveries, int64(time.Second), int64(15*time.Second))
	for _, cu := range w.users { // let reconnects in progress finish their gap fill
		cu.reconnecting.Lock()
		cu.reconnecting.Unlock() //nolint:staticcheck // an empty critical section: waiting is the point
	}
	v, err := w.verify(ctx, s.acked)
	if err != nil {
		return err
	}

	res.Seconds = elapsed.Seconds()
	res.Unit = "messages"
	res.Ops = v.acked
	res.Errors = s.receipt.Errors() + s.read.Errors() + s.typing.Errors()
	res.Throughput = float64(v.acked) / elapsed.Seconds()
	for _, m := range []*Meter{s.receipt, w.delivery, s.read, s.typing} {
		res.Latencies = append(res.Latencies, summarize(m))
	}
	rooms, directs := len(w.rooms), 0
	for _, r := range w.rooms {
		if r.direct {
			directs++
		}
	}
	asked := "as fast as the senders go"
	if cfg.Rate > 0 {
		asked = fmt.Sprintf("asked %.0f/s", cfg.Rate)
	}
	res.line("persisted messages/s", res.Throughput, "msg/s", "acknowledged by RECEIPT; "+asked)
	cw.stop(ctx, res, v.acked, "messages")
	res.line("rooms", float64(rooms), "", fmt.Sprintf("%d groups of up to %d, %d direct", rooms-directs, cfg.RoomSize, directs))
	res.line("messages in history", float64(v.persisted), "", "")
	res.line("stored without RECEIPT", float64(v.unacked), "", "the sender gave up waiting")
	res.line("send retries", float64(s.retries.Load()), "", "same client_msg_id")
	res.line("deliveries", float64(w.deliveries.Load()), "", fmt.Sprintf("%.0f/s", float64(w.deliveries.Load())/elapsed.Seconds()))
	res.line("filled from history", float64(w.filled.Load()), "", "after reconnects")
	res.line("reconnects", float64(w.reconnects.Load()), "", fmt.Sprintf("planned; %d unplanned", w.unplanned.Load()))
	res.line("typing events received", float64(w.typingEvents.Load()), "", "")
	res.line("read events received", float64(w.readEvents.Load()), "", "")
	res.line("lost", float64(v.lost), "", "acknowledged, not in history")
	res.line("doubled", float64(v.doubledHistory+w.doubledLive.Load()), "", fmt.Sprintf("%d in history, %d delivered twice", v.doubledHistory, w.doubledLive.Load()))
	res.check("every acknowledged message is in history once", v.lost == 0 && v.doubledHistory == 0,
		"%d acknowledged, %d lost, %d doubled in history", v.acked, v.lost, v.doubledHistory)
	res.check("seqs have no gaps", v.gaps == 0, "%d missing", v.gaps)
	res.check("every member received every message once", v.missed == 0 && w.doubledLive.Load() == 0,
		"%d of %d member deliveries missing, %d doubled", v.missed, v.memberMessages, w.doubledLive.Load())
	res.check("no send failed", s.receipt.Errors() == 0, "%d of %d failed", s.receipt.Errors(), s.sent.Load())
	res.check("no reconnect failed", w.reconnectFails.Load() == 0, "%d failed attempts", w.reconnectFails.Load())
	return nil
}

// churn reconnects a random user Churn times per second until ctx is done; the returned
// channel closes when it has stopped.
func (w *chatWorld) churn(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if w.cfg.Churn <= 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		defer wg.Wait()
		rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
		t := time.NewTicker(time.Duration(float64(time.Second) / w.cfg.Churn))
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				cu := w.users[rng.IntN(len(w.users))]
				w.reconnects.Add(1)
				wg.Add(1)
				go func() {
					defer wg.Done()
					// Reconnects run past the end of the sends (they must finish their fill).
					w.reconnect(context.WithoutCancel(ctx), cu)
				}()
			}
		}
	}()
	return done
}
