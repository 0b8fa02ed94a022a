package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is what a run measured.
type Result struct {
	Label      string            `json:"label"`
	Scenario   string            `json:"scenario"`
	Target     string            `json:"target"`
	Command    string            `json:"command,omitempty"`
	Params     map[string]string `json:"params"`
	Machine    Machine           `json:"machine"`
	Start      time.Time         `json:"start"`
	Seconds    float64           `json:"seconds"` // length of the measured phase
	Seed       *SeedStats        `json:"seed,omitempty"`
	Ops        int64             `json:"ops"`    // operations of the primary kind
	Errors     int64             `json:"errors"` // failed operations, every kind
	Throughput float64           `json:"throughput"`
	Unit       string            `json:"unit"` // what Ops counts: "requests", "messages", ...
	Latencies  []Latency         `json:"latencies"`
	Lines      []Line            `json:"lines"`
	Steps      []Step            `json:"steps,omitempty"`
	Checks     []Check           `json:"checks"`
}

// Machine describes where the run happened.
type Machine struct {
	Hostname   string `json:"hostname"`
	OS         string `json:"os"`
	Arch       string `json:"arch"`
	CPUs       int    `json:"cpus"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	// LoadAverage is the system's 1-minute load average as the run started: anything well
	// above zero means other work shared the CPUs.
	LoadAverage float64 `json:"load_average"`
}

func thisMachine() Machine {
	h, _ := os.Hostname()
	m := Machine{Hostname: h, OS: runtime.GOOS, Arch: runtime.GOARCH, CPUs: runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(), LoadAverage: -1}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) > 0 {
			m.LoadAverage, _ = strconv.ParseFloat(f[0], 64)
		}
	}
	return m
}

// Latency summarizes one meter: quantiles in milliseconds, its timeline and its histogram.
type Latency struct {
	Name     string   `json:"name"`
	Count    uint64   `json:"count"`
	Errors   int64    `json:"errors"`
	Min      float64  `json:"min_ms"`
	Mean     float64  `json:"mean_ms"`
	P50      float64  `json:"p50_ms"`
	P90      float64  `json:"p90_ms"`
	P99      float64  `json:"p99_ms"`
	P999     float64  `json:"p999_ms"`
	Max      float64  `json:"max_ms"`
	Timeline []Point  `json:"timeline,omitempty"`
	Buckets  []Bucket `json:"buckets,omitempty"`
}

func summarize(m *Meter) Latency {
	h := m.Snapshot()
	return Latency{
		Name: m.Name, Count: h.Count(), Errors: m.Errors(),
		Min: ms(h.Min()), Mean: ms(h.Mean()),
		P50: ms(h.Quantile(0.5)), P90: ms(h.Quantile(0.9)), P99: ms(h.Quantile(0.99)),
		P999: ms(h.Quantile(0.999)), Max: ms(h.Max()),
		Timeline: m.Timeline(), Buckets: h.LogBuckets(10),
	}
}

// Line is one scenario-specific figure.
type Line struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	Note  string  `json:"note,omitempty"`
}

// Step is one rate of a stepped run (fanout).
type Step struct {
	Rate          float64 `json:"rate"`           // messages per second asked
	Sent          int64   `json:"sent"`           // messages sent (acknowledged)
	SendRate      float64 `json:"send_rate"`      // messages per second achieved
	Deliveries    int64   `json:"deliveries"`     // MESSAGE frames received
	DeliveryRate  float64 `json:"delivery_rate"`  // deliveries per second
	P50           float64 `json:"p50_ms"`         // end-to-end delivery latency
	P99           float64 `json:"p99_ms"`         //
	ReceiptP99    float64 `json:"receipt_p99_ms"` // SEND to RECEIPT
	Lost          int64   `json:"lost"`           // deliveries that never came
	Doubled       int64   `json:"doubled"`        // deliveries that came twice
	Errors        int64   `json:"errors"`
	Disconnected  int64   `json:"disconnected"` // subscribers whose session had ended by the step's end
	UnderTarget   bool    `json:"under_target"` // p99 < 100 ms, nothing lost, rate kept
	StopReason    string  `json:"stop_reason,omitempty"`
	StepSeconds   float64 `json:"seconds"`
	Subscriptions int     `json:"subscribers"`
}

// Check is one correctness check of the run.
type Check struct {
	Name   string `json:"name"`
	OK     bool   `json:"ok"`
	Detail string `json:"detail"`
}

// Failed returns the checks that did not pass.
func (r *Result) Failed() []Check {
	var out []Check
	for _, c := range r.Checks {
		if !c.OK {
			out = append(out, c)
		}
	}
	return out
}

func (r *Result) line(name string, value float64, unit, note string) {
	r.Lines = append(r.Lines, Line{Name: name, Value: value, Unit: unit, Note: note})
}

func (r *Result) check(name string, ok bool, format string, args ...any) {
	r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, args...)})
}

// WriteJSON writes the result as indented JSON.
func (r *Result) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteTable writes the summary as aligned text.
func (r *Result) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scenario\t%s\n", r.Scenario)
	fmt.Fprintf(tw, "target\t%s\n", r.Target)
	fmt.Fprintf(tw, "machine\t%d CPUs, %s, %s, load average %.2f at start\n", r.Machine.CPUs, r.Machine.GoVersion, r.Machine.Hostname, r.Machine.LoadAverage)
	if r.Seed != nil && (r.Seed.Users > 0 || r.Seed.Friendships > 0) {
		fmt.Fprintf(tw, "seeded\t%d users, %d friendships, %d rooms in %.1fs (%s)\n",
			r.Seed.Users, r.Seed.Friendships, r.Seed.Rooms, r.Seed.Seconds, r.Seed.Method)
	}
	fmt.Fprintf(tw, "measured\t%.1fs\n", r.Seconds)
	fmt.Fprintf(tw, "%s\t%d (%.0f/s), %d errors\n", r.Unit, r.Ops, r.Throughput, r.Errors)
	fmt.Fprintln(tw)
	if len(r.Latencies) > 0 {
		fmt.Fprintln(tw, "latency (ms)\tcount\terrors\tp50\tp90\tp99\tp99.9\tmax")
		for _, l := range r.Latencies {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", l.Name, l.Count, l.Errors,
				fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.P999), fmtMS(l.Max))
		}
		fmt.Fprintln(tw)
	}
	if len(r.Steps) > 0 {
		fmt.Fprintln(tw, "step msgs/s\tsent/s\tdeliveries/s\tp50 ms\tp99 ms\treceipt p99\tlost\tdoubled\tp99<100ms")
		for _, s := range r.Steps {
			mark := "yes"
			if !s.UnderTarget {
				mark = "no"
				if s.StopReason != "" {
					mark += " (" + s.StopReason + ")"
				}
			}
			fmt.Fprintf(tw, "%.0f\t%.0f\t%.0f\t%s\t%s\t%s\t%d\t%d\t%s\n", s.Rate, s.SendRate, s.DeliveryRate,
				fmtMS(s.P50), fmtMS(s.P99), fmtMS(s.ReceiptP99), s.Lost, s.Doubled, mark)
		}
		fmt.Fprintln(tw)
	}
	for _, l := range r.Lines {
		note := ""
		if l.Note != "" {
			note = "  (" + l.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s %s%s\n", l.Name, fmtValue(l.Value), l.Unit, note)
	}
	if len(r.Lines) > 0 {
		fmt.Fprintln(tw)
	}
	for _, c := range r.Checks {
		mark := "ok"
		if !c.OK {
			mark = "FAILED"
		}
		fmt.Fprintf(tw, "check %s\t%s\t%s\n", c.Name, mark, c.Detail)
	}
	return tw.Flush()
}

func fmtMS(v float64) string {
	switch {
	case v == 0:
		return "-"
	case v < 10:
		return fmt.Sprintf("%.2f", v)
	case v < 100:
		return fmt.Sprintf("%.1f", v)
	}
	return fmt.Sprintf("%.0f", v)
}

func fmtValue(v float64) string {
	if v == float64(int64(v)) {
		return fmt.Sprintf("%d", int64(v))
	}
	if v >= 100 || v <= -100 {
		return fmt.Sprintf("%.0f", v)
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", v), "0"), ".")
}
