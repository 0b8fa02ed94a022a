package bench

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// parallel runs fn(ctx, i) for i in [0, n) on conc goroutines and returns the first error
// (the others are cancelled). While it runs it writes a progress line per second to w,
// labelled label.
func parallel(ctx context.Context, w io.Writer, label string, n, conc int, fn func(ctx context.Context, i int) error) error {
	if n <= 0 {
		return nil
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var next, done atomic.Int64
	var wg sync.WaitGroup
	for range min(max(conc, 1), n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i); err != nil {
					cancel(fmt.Errorf("%s %d: %w", label, i, err))
					return
				}
				done.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-finished:
			if err := context.Cause(ctx); err != nil {
				return err
			}
			if time.Since(start) > time.Second {
				fmt.Fprintf(w, "%-12s %d/%d in %.1fs\n", label, n, n, time.Since(start).Seconds())
			}
			return nil
		case <-tick.C:
			d := done.Load()
			fmt.Fprintf(w, "%-12s %d/%d  %.0f/s\n", label, d, n, float64(d)/time.Since(start).Seconds())
		}
	}
}
