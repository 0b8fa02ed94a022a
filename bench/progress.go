package bench

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress closes a second of every meter once a second and writes one line about the
// primary meter (the first): elapsed time, operations so far, the rate over the last
// second, errors, and the p99 latency so far.
type progress struct {
	w      io.Writer
	unit   string
	meters []*Meter
	extra  func() string // more to say on each line; may be nil
	start  time.Time

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	elapsed  time.Duration
}

func startProgress(w io.Writer, unit string, extra func() string, meters ...*Meter) *progress {
	p := &progress{w: w, unit: unit, meters: meters, extra: extra, start: time.Now(),
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.loop()
	return p
}

func (p *progress) loop() {
	defer close(p.done)
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var lastOps uint64
	lastAt := p.start
	for {
		select {
		case <-p.stop:
			p.elapsed = time.Since(p.start)
			if p.elapsed-lastAt.Sub(p.start) > 100*time.Millisecond {
				for _, m := range p.meters {
					m.tick(p.elapsed)
				}
			}
			return
		case now := <-t.C:
			elapsed := now.Sub(p.start)
			var first *Histogram
			for i, m := range p.meters {
				h := m.tick(elapsed)
				if i == 0 {
					first = h
				}
			}
			if first == nil {
				continue
			}
			rate := float64(first.Count()-lastOps) / now.Sub(lastAt).Seconds()
			lastOps, lastAt = first.Count(), now
			var b strings.Builder
			fmt.Fprintf(&b, "%4.0fs  %s %d  %.0f/s  errors %d  p99 %s ms", elapsed.Seconds(), p.unit,
				first.Count(), rate, p.meters[0].Errors(), fmtMS(ms(first.Quantile(0.99))))
			if p.extra != nil {
				if s := p.extra(); s != "" {
					b.WriteString("  ")
					b.WriteString(s)
				}
			}
			fmt.Fprintln(p.w, b.String())
		}
	}
}

// Stop closes the last partial second and returns how long the measurement lasted.
func (p *progress) Stop() time.Duration {
	p.stopOnce.Do(func() { close(p.stop) })
	<-p.done
	return p.elapsed
}
