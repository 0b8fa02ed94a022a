package bench

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Recorder counts durations from many goroutines at once, with atomic additions and no
// locks: the hot path is two atomic adds and a load. Snapshot copies its counts into a
// Histogram.
type Recorder struct {
	counts [numBuckets]atomic.Uint64
	n      atomic.Uint64
	sum    atomic.Int64
	min    atomic.Int64 // valid once n > 0; math.MaxInt64 until then
	max    atomic.Int64
}

func newRecorder() *Recorder {
	r := &Recorder{}
	r.min.Store(1<<63 - 1)
	return r
}

// Record counts one duration.
func (r *Recorder) Record(d time.Duration) {
	v := int64(d)
	r.counts[bucketOf(v)].Add(1)
	r.sum.Add(v)
	for {
		m := r.max.Load()
		if v <= m || r.max.CompareAndSwap(m, v) {
			break
		}
	}
	for {
		m := r.min.Load()
		if v >= m || r.min.CompareAndSwap(m, v) {
			break
		}
	}
	r.n.Add(1) // last: a snapshot that sees n sees the rest
}

// snapshotInto adds the recorder's counts to h.
func (r *Recorder) snapshotInto(h *Histogram) {
	n := r.n.Load()
	if n == 0 {
		return
	}
	var o Histogram
	for i := range r.counts {
		o.counts[i] = r.counts[i].Load()
	}
	o.n, o.sum, o.min, o.max = n, r.sum.Load(), r.min.Load(), r.max.Load()
	// Counts recorded while copying may make the buckets run ahead of n; n follows them.
	var total uint64
	for _, c := range o.counts {
		total += c
	}
	o.n = max(o.n, total)
	h.Merge(&o)
}

// Meter is one measured operation (a request, a RECEIPT, a delivery): its latencies in a few
// Recorders (shards, so that goroutines on different CPUs rarely share a cache line), its
// error count, and a timeline of one point per second.
type Meter struct {
	Name   string
	shards []*Recorder
	errors atomic.Int64

	mu       sync.Mutex // guards the timeline; taken once a second, never on the hot path
	last     *Histogram
	lastErrs int64
	timeline []Point
}

// NewMeter returns a meter with one shard per two CPUs, at least two.
func NewMeter(name string) *Meter {
	m := &Meter{Name: name, last: &Histogram{}}
	m.shards = make([]*Recorder, max(2, 2*runtime.GOMAXPROCS(0)))
	for i := range m.shards {
		m.shards[i] = newRecorder()
	}
	return m
}

// Shard returns the recorder for worker i; workers that keep their own index spread over
// the shards.
func (m *Meter) Shard(i int) *Recorder { return m.shards[uint(i)%uint(len(m.shards))] }

// Record counts one duration in shard 0; busy callers use Shard.
func (m *Meter) Record(d time.Duration) { m.shards[0].Record(d) }

// Error counts one failed operation.
func (m *Meter) Error() { m.errors.Add(1) }

// Errors returns the failures counted so far.
func (m *Meter) Errors() int64 { return m.errors.Load() }

// Snapshot returns everything recorded so far, all shards merged.
func (m *Meter) Snapshot() *Histogram {
	h := &Histogram{}
	for _, r := range m.shards {
		r.snapshotInto(h)
	}
	return h
}

// tick closes the second that ends at elapsed: it appends a point with what was recorded
// since the previous tick and returns the cumulative snapshot.
func (m *Meter) tick(elapsed time.Duration) *Histogram {
	cur := m.Snapshot()
	errs := m.errors.Load()
	m.mu.Lock()
	defer m.mu.Unlock()
	d := cur.Sub(m.last)
	m.timeline = append(m.timeline, Point{
		T:      elapsed.Seconds(),
		Count:  d.Count(),
		Errors: errs - m.lastErrs,
		P50:    ms(d.Quantile(0.50)),
		P99:    ms(d.Quantile(0.99)),
	})
	m.last, m.lastErrs = cur, errs
	return cur
}

// Timeline returns the points recorded so far.
func (m *Meter) Timeline() []Point {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Point(nil), m.timeline...)
}

// Point is one second of a meter: how many operations ended in it, how many failed, and
// their median and 99th percentile latency in milliseconds.
type Point struct {
	T      float64 `json:"t"` // seconds since the measurement started, at the end of the second
	Count  uint64  `json:"count"`
	Errors int64   `json:"errors"`
	P50    float64 `json:"p50_ms"`
	P99    float64 `json:"p99_ms"`
}

// ms converts a duration to milliseconds.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
