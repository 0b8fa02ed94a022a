package bench

import (
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"
)

func TestBucketsCoverEveryValueOnce(t *testing.T) {
	prevHi := int64(-1)
	for i := range numBuckets {
		lo, hi := bucketBounds(i)
		if lo != prevHi+1 || hi < lo {
			t.Fatalf("bucket %d is [%d, %d], previous ended at %d", i, lo, hi, prevHi)
		}
		if bucketOf(lo) != i || bucketOf(hi) != i {
			t.Fatalf("bucket %d [%d, %d]: bucketOf gives %d and %d", i, lo, hi, bucketOf(lo), bucketOf(hi))
		}
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d of its values", i, lo, hi, subCount)
		}
		prevHi = hi
	}
	if prevHi != maxValue {
		t.Fatalf("last bucket ends at %d, want %d", prevHi, int64(maxValue))
	}
	if got := bucketOf(1 << 50); got != numBuckets-1 {
		t.Fatalf("a huge value lands in bucket %d, want the last one", got)
	}
}

func TestQuantilesAreWithinOneBucketOfTheExactOnes(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	var exact []int64
	for range 100_000 {
		// Log-normal-ish latencies from 10µs to a few seconds.
		v := int64(10_000 * (1 + rng.ExpFloat64()*rng.ExpFloat64()*50))
		exact = append(exact, v)
		h.Record(time.Duration(v))
	}
	slices.Sort(exact)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999, 1} {
		want := exact[max(0, int(q*float64(len(exact)))-1)]
		got := int64(h.Quantile(q))
		if got < want || float64(got-want) > float64(want)/subCount+1 {
			t.Errorf("q%.3f = %d, exact %d: off by more than one bucket", q, got, want)
		}
	}
	if h.Min() != time.Duration(exact[0]) || h.Max() != time.Duration(exact[len(exact)-1]) {
		t.Errorf("min %v max %v, want %v %v", h.Min(), h.Max(), exact[0], exact[len(exact)-1])
	}
	var total uint64
	for _, b := range h.LogBuckets(5) {
		if b.High <= b.Low {
			t.Fatalf("log bucket %+v is empty or reversed", b)
		}
		total += b.Count
	}
	if total != h.Count() {
		t.Errorf("log buckets hold %d values, want %d", total, h.Count())
	}
}

func TestMeterMergesShardsAndDiffsSeconds(t *testing.T) {
	m := NewMeter("op")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := m.Shard(w)
			for i := range 1000 {
				r.Record(time.Duration(i+1) * time.Microsecond)
			}
		}()
	}
	wg.Wait()
	first := m.tick(time.Second)
	if first.Count() != 8000 {
		t.Fatalf("count %d, want 8000", first.Count())
	}
	if p := first.Quantile(0.5); p < 500*time.Microsecond || p > 510*time.Microsecond {
		t.Errorf("median %v, want about 500µs", p)
	}
	m.Record(time.Second)
	m.Error()
	m.tick(2 * time.Second)
	tl := m.Timeline()
	if len(tl) != 2 || tl[0].Count != 8000 || tl[1].Count != 1 || tl[1].Errors != 1 {
		t.Fatalf("timeline %+v, want 8000 then 1 value with 1 error", tl)
	}
	if tl[1].P99 < 990 || tl[1].P99 > 1000 {
		t.Errorf("second point p99 %.1f ms, want 1000", tl[1].P99)
	}
}
