package bench

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop/stomp"
)

// fanoutReadBuffer lets a subscriber read the frames queued on its socket with one system
// call when it falls behind, so that the generator costs less than the server it loads.
const fanoutReadBuffer = 16 << 10

// maxInFlight bounds the SENDs awaiting their RECEIPT; the sender waits beyond it.
const maxInFlight = 4096

// runStep sends rate messages per second for the step's duration, open-loop: message i is
// planned at start + i/rate, carries that time in its body, and latencies count from it.
// It then waits for the receipts and deliveries to come in and summarizes the step.
func (fo *fanout) runStep(ctx context.Context, cfg Config, sender *stompSession, dest string, k int, rate float64, first int, receipts *Meter) (Step, error) {
	st := fo.steps[k]
	count := min(int(math.Ceil(rate*cfg.StepDuration.Seconds())), len(fo.counts)-first)
	st.first, st.end = first, first+count
	st.acked = make([]atomic.Bool, count)
	interval := float64(time.Second) / rate
	var inflight, sendErrs atomic.Int64
	body := make([]byte, 0, cfg.MessageSize+96)
	start := now()
	sent := 0
	var err error
	for i := 0; i < count && err == nil; i++ {
		planned := start + int64(float64(i)*interval)
		if wait := time.Duration(planned - now()); wait > 0 {
			if err = sleepCtx(ctx, wait); err != nil {
				break
			}
		}
		for inflight.Load() >= maxInFlight && err == nil {
			err = sleepCtx(ctx, time.Millisecond)
		}
		if err != nil {
			break
		}
		body = fanoutBody(body[:0], k, first+i, planned, cfg.MessageSize)
		inflight.Add(1)
		err = sender.send(dest, body, func(rerr error) {
			defer inflight.Add(-1)
			if rerr != nil {
				sendErrs.Add(1)
				st.receipt.Error()
				receipts.Error()
				return
			}
			lat := time.Duration(now() - planned)
			st.receipt.Record(lat)
			receipts.Record(lat)
			st.acked[i].Store(true)
		})
		if err != nil {
			inflight.Add(-1)
			err = fmt.Errorf("send: %w", err)
			break
		}
		sent++
	}
	sendEnd := now()

	// Let the receipts and the deliveries of this step come in.
	want := int64(fo.subscribers)
	deadline := time.Now().Add(max(5*time.Second, cfg.StepDuration))
	for time.Now().Before(deadline) && ctx.Err() == nil {
		if inflight.Load() == 0 {
			acked, got := int64(0), int64(0)
			for i := range count {
				if st.acked[i].Load() {
					acked++
					got += min(int64(fo.counts[first+i].Load()), want)
				}
			}
			if got >= acked*want {
				break
			}
		}
		time.Sleep(10 * time.Millisecond)
	}

	s := Step{Rate: rate, Subscriptions: fo.subscribers, Errors: sendErrs.Load()}
	var acked int64
	for i := range count {
		c := int64(fo.counts[first+i].Load())
		if st.acked[i].Load() {
			acked++
			s.Lost += max(0, want-c)
		}
		s.Doubled += max(0, c-want)
		s.Deliveries += c
	}
	s.Sent = acked
	// The step lasts its duration, or longer when the sender fell behind.
	stepEnd := max(sendEnd, start+int64(cfg.StepDuration))
	s.StepSeconds = time.Duration(stepEnd - start).Seconds()
	s.SendRate = float64(sent) / s.StepSeconds
	window := time.Duration(max(st.lastArrival.Load(), stepEnd) - start).Seconds()
	if window > 0 {
		s.DeliveryRate = float64(s.Deliveries) / window
	}
	h := st.delivery.Snapshot()
	s.P50, s.P99 = ms(h.Quantile(0.5)), ms(h.Quantile(0.99))
	s.ReceiptP99 = ms(st.receipt.Snapshot().Quantile(0.99))
	var why []string
	if time.Duration(h.Quantile(0.99)) >= fanoutLatencyTarget || h.Count() == 0 {
		why = append(why, "p99 ≥ 100 ms")
	}
	if s.Lost > 0 {
		why = append(why, "lost deliveries")
	}
	if s.Errors > 0 || acked < int64(sent) {
		why = append(why, "SEND errors")
	}
	if s.SendRate < 0.95*rate {
		why = append(why, "sender fell behind")
	}
	s.UnderTarget = len(why) == 0
	s.StopReason = strings.Join(why, ", ")
	return s, err
}

// fanoutBody is the SEND body of message idx of step k: a Plop message whose text holds the
// marker. Other brokers carry it as it is.
func fanoutBody(dst []byte, k, idx int, planned int64, size int) []byte {
	dst = append(dst, `{"client_msg_id":"f`...)
	dst = strconv.AppendInt(dst, int64(idx), 10)
	dst = append(dst, `","body":"`...)
	dst = appendBody(dst, k, idx, planned, size)
	return append(dst, `"}`...)
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// fanoutPlan says where a fanout run connects, subscribes and sends.
type fanoutPlan struct {
	dial        func(ctx context.Context, i int, onMessage func(*stomp.Frame)) (*stompSession, error)
	subscribeTo string
	sendTo      string
}

func planFanout(ctx context.Context, cfg Config, nodes cluster, res *Result) (*fanoutPlan, error) {
	if nodes == nil {
		wsURL, err := targetWSURL(cfg.Target)
		if err != nil {
			return nil, err
		}
		topic := "/topic/bench." + randomHex(3) + ".fanout"
		return &fanoutPlan{
			dial: func(ctx context.Context, _ int, on func(*stomp.Frame)) (*stompSession, error) {
				return dialStomp(ctx, stompDial{wsURL: wsURL, login: cfg.Login, passcode: cfg.Passcode, vhost: "/",
					heartBeat: cfg.HeartBeat, onMessage: on, readBuffer: fanoutReadBuffer})
			},
			subscribeTo: topic, sendTo: topic,
		}, nil
	}
	sd, err := newSeeder(cfg, nodes.first())
	if err != nil {
		return nil, err
	}
	defer sd.close()
	res.Seed = &sd.stats
	users, err := sd.users(ctx, cfg.RoomSize)
	if err != nil {
		return nil, err
	}
	_, rooms, err := seedGroups(ctx, sd, users, cfg.RoomSize)
	if err != nil {
		return nil, err
	}
	return &fanoutPlan{
		dial: func(ctx context.Context, i int, on func(*stomp.Frame)) (*stompSession, error) {
			// The sender (-1) is the room's creator, on a session of its own on the first node;
			// subscribers spread over the nodes, so that a cluster fans out across them.
			u := users[max(i, 0)]
			return dialStomp(ctx, stompDial{wsURL: nodes.pick(max(i, 0)).wsURL, token: u.Token, heartBeat: cfg.HeartBeat, onMessage: on,
				readBuffer: fanoutReadBuffer})
		},
		subscribeTo: roomTopicDest(rooms[0]),
		sendTo:      "/app/rooms." + rooms[0] + ".messages",
	}, nil
}
