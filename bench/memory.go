package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
)

// memSample is the memory of a process at one moment, in bytes; -1 when unknown.
type memSample struct {
	RSS   int64 // resident set size
	Heap  int64 // Go heap in use
	Stack int64 // goroutine stacks in use
}

// add sums two samples; unknown parts stay unknown.
func (m memSample) add(o memSample) memSample {
	sum := func(a, b int64) int64 {
		if a < 0 || b < 0 {
			return -1
		}
		return a + b
	}
	return memSample{RSS: sum(m.RSS, o.RSS), Heap: sum(m.Heap, o.Heap), Stack: sum(m.Stack, o.Stack)}
}

// nodeMemory reads the memory of the node: in-process from the runtime and /proc/self
// (after a collection that returns free memory to the system, so that RSS follows the live
// heap), a spawned node from /proc/<pid> and its /metrics, a node at a URL from /metrics.
func nodeMemory(ctx context.Context, n *node) (memSample, error) {
	s := memSample{RSS: -1, Heap: -1, Stack: -1}
	if n.kind == "in-process" {
		debug.FreeOSMemory()
		samples := []metrics.Sample{
			{Name: "/memory/classes/heap/objects:bytes"},
			{Name: "/memory/classes/heap/stacks:bytes"},
		}
		metrics.Read(samples)
		s.Heap = int64(samples[0].Value.Uint64())
		s.Stack = int64(samples[1].Value.Uint64())
		rss, err := procRSS(os.Getpid())
		s.RSS = rss
		return s, err
	}
	m, err := scrapeMetrics(ctx, n.url+"/metrics",
		"process_resident_memory_bytes", "go_memstats_heap_inuse_bytes", "go_memstats_stack_inuse_bytes")
	if err != nil {
		return s, err
	}
	s.RSS, s.Heap, s.Stack = int64(m[0]), int64(m[1]), int64(m[2])
	if n.pid > 0 {
		if rss, err := procRSS(n.pid); err == nil {
			s.RSS = rss
		}
	}
	return s, nil
}

// procRSS reads VmRSS from /proc/<pid>/status.
func procRSS(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return -1, fmt.Errorf("read memory of process %d: %w", pid, err)
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest) // "123456 kB"
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				if err == nil {
					return kb << 10, nil
				}
			}
		}
	}
	return -1, fmt.Errorf("process %d: no VmRSS in its status", pid)
}

// scrapeMetrics reads the unlabelled samples names from a Prometheus text endpoint, -1 for
// those missing.
func scrapeMetrics(ctx context.Context, url string, names ...string) ([]float64, error) {
	out := make([]float64, len(names))
	for i := range out {
		out[i] = -1
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return out, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return out, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return out, fmt.Errorf("scrape %s: status %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return out, fmt.Errorf("scrape %s: %w", url, err)
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), " ")
		if !ok {
			continue
		}
		for i, n := range names {
			if name == n {
				if v, err := strconv.ParseFloat(strings.TrimSpace(value), 64); err == nil {
					out[i] = v
				}
			}
		}
	}
	return out, sc.Err()
}

// clientHeap returns this process's live Go heap and stacks after a collection: the
// generator's own cost per connection, when the node runs elsewhere.
func clientHeap() int64 {
	runtime.GC()
	samples := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/stacks:bytes"},
	}
	metrics.Read(samples)
	return int64(samples[0].Value.Uint64() + samples[1].Value.Uint64())
}
