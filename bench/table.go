package bench

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// ReadResult reads a Result saved as JSON.
func ReadResult(name string) (*Result, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	var r Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &r, nil
}

// keyLines are the scenario-specific figures worth a place in the markdown table.
var keyLines = map[string]bool{
	"ratio to baseline":              true,
	"sessions held":                  true,
	"baseline throughput":            true,
	"memory per session":             true,
	"connect rate":                   true,
	"highest rate with p99 < 100 ms": true,
	"persisted messages/s":           true,
	"lost":                           true,
	"doubled":                        true,
}

// WriteMarkdown writes one row per result: what ran, its throughput and latency, its key
// figures and whether its checks passed.
func WriteMarkdown(w io.Writer, results []*Result) error {
	fmt.Fprintln(w, "| run | target | parameters | throughput | p50 ms | p99 ms | p99.9 ms | errors | figures | checks |")
	fmt.Fprintln(w, "|---|---|---|---:|---:|---:|---:|---:|---|---|")
	for _, r := range results {
		var p50, p99, p999 string = "-", "-", "-"
		if len(r.Latencies) > 0 {
			l := r.Latencies[0]
			p50, p99, p999 = fmtMS(l.P50), fmtMS(l.P99), fmtMS(l.P999)
		}
		// A stepped run's headline is its best step: its latencies, not the whole run's.
		for _, s := range r.Steps {
			if s.UnderTarget && s.DeliveryRate == r.Throughput {
				p50, p99, p999 = fmtMS(s.P50), fmtMS(s.P99), "-"
			}
		}
		keys := make([]string, 0, len(r.Params))
		for k := range r.Params {
			if k != "max_ops" && k != "seed" {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		var params []string
		for _, k := range keys {
			params = append(params, k+"="+r.Params[k])
		}
		var figs []string
		for _, l := range r.Lines {
			if keyLines[l.Name] || strings.HasSuffix(l.Name, " per CPU-second") || l.Name == "CPU, this process" || l.Name == "CPU, target" {
				figs = append(figs, strings.TrimSpace(fmt.Sprintf("%s %s %s", l.Name, fmtValue(l.Value), l.Unit)))
			}
		}
		checks := "ok"
		if f := r.Failed(); len(f) > 0 {
			var names []string
			for _, c := range f {
				names = append(names, c.Name)
			}
			checks = "FAILED: " + strings.Join(names, "; ")
		}
		fmt.Fprintf(w, "| %s | %s | %s | %.0f %s/s | %s | %s | %s | %d | %s | %s |\n",
			cell(cmp.Or(r.Label, r.Scenario)), cell(r.Target), cell(strings.Join(params, " ")), r.Throughput, r.Unit,
			p50, p99, p999, r.Errors, cell(strings.Join(figs, "; ")), cell(checks))
	}
	return nil
}

// cell escapes a table cell.
func cell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
