package bench

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/client"
)

// chatJob is one message to send: by whom, where, and when it was planned.
type chatJob struct {
	planned int64 // on the generator's clock
	user    int
	room    int
	n       int // message number of the run
}

// ackedMsg is a message whose RECEIPT came: it must be in history exactly once.
type ackedMsg struct {
	room        int
	seq         int64
	clientMsgID string
}

// chatSender drives the sends of a chat run.
type chatSender struct {
	w        *chatWorld
	cfg      Config
	runID    string
	receipt  *Meter
	read     *Meter
	typing   *Meter
	retries  atomic.Int64
	sent     atomic.Int64 // jobs taken
	acked    [][]ackedMsg // per worker
	failures atomic.Int64
}

// run sends until ctx is done or MaxOps messages were sent: open-loop at Rate (a pacer
// plans the jobs; latencies count from the planned time), or closed-loop as fast as the
// workers go when Rate is 0.
func (s *chatSender) run(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.acked = make([][]ackedMsg, s.cfg.Concurrency)
	jobs := make(chan chatJob, s.cfg.Concurrency)
	var counter atomic.Int64
	pick := func(rng *rand.Rand, planned int64) (chatJob, bool) {
		n := int(counter.Add(1) - 1)
		if int64(n) >= s.cfg.MaxOps {
			return chatJob{}, false
		}
		u := s.w.users[rng.IntN(len(s.w.users))]
		room := u.rooms[0]
		if len(u.rooms) > 1 && rng.Float64() < s.cfg.DirectShare {
			room = u.rooms[1+rng.IntN(len(u.rooms)-1)]
		}
		return chatJob{planned: planned, user: u.idx, room: room, n: n}, true
	}
	var wg sync.WaitGroup
	if s.cfg.Rate > 0 {
		wg.Add(1)
		go func() { // the pacer
			defer wg.Done()
			defer close(jobs)
			rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
			interval := float64(time.Second) / s.cfg.Rate
			start := now()
			for i := 0; ; i++ {
				planned := start + int64(float64(i)*interval)
				if wait := time.Duration(planned - now()); wait > 0 && sleepCtx(ctx, wait) != nil {
					return
				}
				job, ok := pick(rng, planned)
				if !ok {
					cancel()
					return
				}
				select {
				case jobs <- job:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	for v := range s.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(v), uint64(time.Now().UnixNano())))
			body := make([]byte, 0, s.cfg.MessageSize+32)
			for {
				var job chatJob
				if s.cfg.Rate > 0 {
					var ok bool
					if job, ok = <-jobs; !ok {
						return
					}
				} else {
					if ctx.Err() != nil {
						return
					}
					var ok bool
					if job, ok = pick(rng, now()); !ok {
						cancel()
						return
					}
				}
				s.sent.Add(1)
				body = appendBody(body[:0], job.room, job.n, job.planned, s.cfg.MessageSize)
				s.do(ctx, v, rng, job, string(body))
			}
		}()
	}
	wg.Wait()
}

// do sends one message, with a typing indicator before and a read receipt after when the
// dice say so. A send that fails (its connection closed, its RECEIPT late) is sent again,
// on the user's connection of the moment, with the same client_msg_id: the server must
// store it once.
func (s *chatSender) do(ctx context.Context, v int, rng *rand.Rand, job chatJob, body string) {
	cu := s.w.users[job.user]
	room := s.w.rooms[job.room]
	// The last sends may still be finishing when the run ends; give them time.
	opCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if rng.Float64() < s.cfg.TypingShare {
		if conn, err := cu.currentConn(opCtx); err == nil {
			t := time.Now()
			if err := conn.Typing(opCtx, room.id, true); err != nil {
				s.typing.Error()
			} else {
				s.typing.Shard(v).Record(time.Since(t))
			}
		}
	}
	in := app.MessageInput{Body: body, ClientMsgID: fmt.Sprintf("c%s-%d", s.runID, job.n)}
	var rc client.Receipt
	var err error
	for attempt := range 4 {
		var conn *client.STOMPConn
		if conn, err = cu.currentConn(opCtx); err != nil {
			break
		}
		actx, acancel := context.WithTimeout(opCtx, 10*time.Second)
		rc, err = conn.SendMessage(actx, room.id, in)
		acancel()
		if err == nil || opCtx.Err() != nil || attempt == 3 {
			break
		}
		s.retries.Add(1)
	}
	if err != nil {
		s.receipt.Error()
		if s.failures.Add(1) <= 3 {
			s.cfg.Logger.Warn("send", "user", job.user, "room", room.id, "err", err)
		}
		return
	}
	s.receipt.Shard(v).Record(time.Duration(now() - job.planned))
	s.acked[v] = append(s.acked[v], ackedMsg{room: job.room, seq: rc.Seq, clientMsgID: in.ClientMsgID})

	if rng.Float64() < s.cfg.ReadShare {
		// Another member reads up to what it has received.
		m := room.members[rng.IntN(len(room.members))]
		reader := s.w.users[m]
		reader.mu.Lock()
		upTo := reader.recv[job.room].all.prefix()
		reader.mu.Unlock()
		if upTo > 0 {
			if conn, err := reader.currentConn(opCtx); err == nil {
				t := time.Now()
				if err := conn.MarkRead(opCtx, room.id, upTo); err != nil {
					s.read.Error()
				} else {
					s.read.Shard(v).Record(time.Since(t))
				}
			}
		}
	}
}
