package bench

import (
	"context"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// httpLoad is a GET load: conc virtual users, each on its own keep-alive connection,
// cycling through prepared requests (one per seeded user) until the duration or the
// operation budget runs out. With a rate it is open-loop: each virtual user keeps a
// schedule and latency counts from the planned start, so that a stalled server shows
// in the figures instead of quietly slowing the load (no coordinated omission).
type httpLoad struct {
	addrs    []string // host:port of each node; virtual user v loads addrs[v % len]
	reqs     [][]byte // requests to cycle through
	conc     int
	rate     float64 // requests per second over all virtual users; 0: closed loop
	duration time.Duration
	maxOps   int64
	meter    *Meter

	bytes     atomic.Int64
	badStatus sync.Map // status -> *atomic.Int64
}

// run drives the load and returns when it is over.
func (l *httpLoad) run(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	defer cancel()
	var ops atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for v := range l.conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &httpConn{addr: l.addrs[v%len(l.addrs)]}
			defer c.close()
			rec := l.meter.Shard(v)
			var interval time.Duration
			if l.rate > 0 {
				interval = time.Duration(float64(time.Second) * float64(l.conc) / l.rate)
			}
			next := start.Add(time.Duration(v) * interval / time.Duration(l.conc))
			for k := 0; ctx.Err() == nil; k++ {
				if ops.Add(1) > l.maxOps {
					cancel()
					return
				}
				begin := time.Now()
				if interval > 0 {
					if wait := time.Until(next); wait > 0 {
						select {
						case <-ctx.Done():
							return
						case <-time.After(wait):
						}
					}
					begin = next
					next = next.Add(interval)
				}
				req := l.reqs[(v+k*l.conc)%len(l.reqs)]
				status, n, err := c.do(ctx, req)
				if ctx.Err() != nil && err != nil {
					return // cut off by the end of the run, not a failure
				}
				if err != nil || status != http.StatusOK {
					l.meter.Error()
					l.countStatus(status)
					continue
				}
				rec.Record(time.Since(begin))
				l.bytes.Add(int64(n))
			}
		}()
	}
	wg.Wait()
}

func (l *httpLoad) countStatus(status int) {
	v, _ := l.badStatus.LoadOrStore(status, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
}

// statusCounts returns the failures by status (0: no answer).
func (l *httpLoad) statusCounts() map[int]int64 {
	out := map[int]int64{}
	l.badStatus.Range(func(k, v any) bool {
		out[k.(int)] = v.(*atomic.Int64).Load()
		return true
	})
	return out
}
