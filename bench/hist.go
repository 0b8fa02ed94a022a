package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, in the manner of HdrHistogram: values (nanoseconds) below
// subCount are counted exactly; above, every power-of-two range is split into subCount
// equal buckets, so a bucket is never wider than 1/subCount (1.6 %) of its values.
const (
	subBits    = 6
	subCount   = 1 << subBits
	maxBits    = 38 // values up to 2^38 ns (about 275 s); larger ones count as that
	maxValue   = 1<<maxBits - 1
	numBuckets = (maxBits - subBits + 1) * subCount
)

// bucketOf returns the bucket index of v nanoseconds.
func bucketOf(v int64) int {
	switch {
	case v < subCount:
		return int(max(v, 0))
	case v > maxValue:
		v = maxValue
	}
	e := bits.Len64(uint64(v)) - subBits - 1 // v>>e is in [subCount, 2*subCount)
	return (e+1)*subCount + int(v>>e) - subCount
}

// bucketBounds returns the smallest and the largest value counted in bucket i.
func bucketBounds(i int) (lo, hi int64) {
	if i < subCount {
		return int64(i), int64(i)
	}
	e := i/subCount - 1
	sub := int64(i%subCount + subCount)
	return sub << e, (sub+1)<<e - 1
}

// Histogram counts durations in log-linear buckets. It is a plain value, not safe for
// concurrent use: a Recorder collects concurrently and snapshots into Histograms, which
// merge, subtract and answer quantiles.
type Histogram struct {
	counts [numBuckets]uint64
	n      uint64
	sum    int64 // nanoseconds
	min    int64
	max    int64
}

// Record counts one duration.
func (h *Histogram) Record(d time.Duration) {
	v := int64(d)
	h.counts[bucketOf(v)]++
	if h.n == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.n++
	h.sum += v
}

// Count returns the number of recorded durations.
func (h *Histogram) Count() uint64 { return h.n }

// Merge adds the counts of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Sub returns the counts of h that are not in earlier, an older snapshot of the same
// Recorder: what was recorded in between. Its min and max are bucket bounds.
func (h *Histogram) Sub(earlier *Histogram) *Histogram {
	d := &Histogram{}
	first := true
	for i := range h.counts {
		c := h.counts[i] - earlier.counts[i]
		if c == 0 {
			continue
		}
		d.counts[i] = c
		lo, hi := bucketBounds(i)
		if first {
			d.min, first = max(lo, h.min), false
		}
		d.max = min(hi, h.max)
	}
	d.n = h.n - earlier.n
	d.sum = h.sum - earlier.sum
	return d
}

// Quantile returns the duration below or at which a fraction q (0..1) of the values lie:
// the upper bound of the bucket holding that rank, never above the largest value recorded.
// It returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketBounds(i)
			return time.Duration(max(min(hi, h.max), h.min))
		}
	}
	return time.Duration(h.max)
}

// Min, Max and Mean describe the recorded durations; 0 when there are none.
func (h *Histogram) Min() time.Duration { return time.Duration(h.min) }

// Max returns the largest recorded duration.
func (h *Histogram) Max() time.Duration { return time.Duration(h.max) }

// Mean returns the average recorded duration.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return time.Duration(h.sum / int64(h.n))
}

// LogBuckets regroups the counts into buckets of equal width on a log scale, perDecade of
// them per factor of ten, from the decade of the smallest value to that of the largest,
// for a histogram chart. Empty histograms have no buckets.
func (h *Histogram) LogBuckets(perDecade int) []Bucket {
	if h.n == 0 {
		return nil
	}
	lo := math.Floor(math.Log10(float64(max(h.min, 1))))
	hi := math.Ceil(math.Log10(float64(max(h.max, 1)) + 1))
	n := int(hi-lo) * perDecade
	out := make([]Bucket, n)
	for i := range out {
		out[i].Low = math.Pow(10, lo+float64(i)/float64(perDecade)) / 1e6
		out[i].High = math.Pow(10, lo+float64(i+1)/float64(perDecade)) / 1e6
	}
	for i, c := range h.counts {
		if c == 0 {
			continue
		}
		a, b := bucketBounds(i)
		mid := float64(a+b) / 2
		k := int((math.Log10(max(mid, 1)) - lo) * float64(perDecade))
		out[min(max(k, 0), n-1)].Count += c
	}
	return out
}

// Bucket is one bar of a latency histogram: the count of values between Low and High
// milliseconds.
type Bucket struct {
	Low   float64 `json:"low_ms"`
	High  float64 `json:"high_ms"`
	Count uint64  `json:"count"`
}
