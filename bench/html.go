package bench

import (
	"bytes"
	"fmt"
	"html"
	"io"
	"strings"
)

const reportStyle = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:760px;color:#222}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em}
table{border-collapse:collapse;margin:.6em 0}td,th{padding:.2em .7em;border-bottom:1px solid #ddd;text-align:right}
td:first-child,th:first-child{text-align:left}.ok{color:#176f2c}.failed{color:#b3261e;font-weight:bold}
code,pre{font:12px ui-monospace,monospace;background:#f4f4f4}pre{padding:.6em;white-space:pre-wrap}
svg{display:block;margin:.6em 0}svg .bg{fill:#fff}svg .grid{stroke:#eee}svg .axisline,svg .tick{stroke:#999}
svg text{font:11px system-ui,sans-serif;fill:#444}svg .ylab{text-anchor:end}svg .xlab{text-anchor:middle}
svg .title{text-anchor:end;font-weight:bold}svg .axis{text-anchor:middle}svg .bar{fill:#3b6fb6}
svg .note{text-anchor:middle;fill:#999}svg .legend{fill:#222}`

// WriteHTML writes the result as one self-contained HTML page: the summary, then for each
// latency a chart of p50 and p99 per second, of operations per second, and its histogram.
func (r *Result) WriteHTML(w io.Writer) error {
	var b bytes.Buffer
	esc := html.EscapeString
	fmt.Fprintf(&b, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>plop bench %s</title><style>%s</style></head><body>\n",
		esc(r.Scenario), reportStyle)
	fmt.Fprintf(&b, "<h1>plop bench %s</h1>\n", esc(r.Scenario))
	b.WriteString("<table>")
	row := func(k, v string) { fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td></tr>", esc(k), esc(v)) }
	row("target", r.Target)
	if r.Command != "" {
		row("command", r.Command)
	}
	row("machine", fmt.Sprintf("%s, %d CPUs, %s, load average %.2f at start", r.Machine.Hostname, r.Machine.CPUs, r.Machine.GoVersion, r.Machine.LoadAverage))
	row("started", r.Start.Format("2006-01-02 15:04:05 UTC"))
	if r.Seed != nil && r.Seed.Users > 0 {
		row("seeded", fmt.Sprintf("%d users, %d friendships, %d rooms in %.1fs (%s)", r.Seed.Users, r.Seed.Friendships, r.Seed.Rooms, r.Seed.Seconds, r.Seed.Method))
	}
	row("measured", fmt.Sprintf("%.1f s", r.Seconds))
	row(r.Unit, fmt.Sprintf("%d (%.0f/s), %d errors", r.Ops, r.Throughput, r.Errors))
	b.WriteString("</table>\n")

	if len(r.Latencies) > 0 {
		b.WriteString("<h2>Latency (ms)</h2><table><tr><th></th><th>count</th><th>errors</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>max</th></tr>")
		for _, l := range r.Latencies {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%d</td><td>%d</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>",
				esc(l.Name), l.Count, l.Errors, fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.P999), fmtMS(l.Max))
		}
		b.WriteString("</table>\n")
	}
	if len(r.Steps) > 0 {
		b.WriteString("<h2>Steps</h2><table><tr><th>msgs/s</th><th>sent/s</th><th>deliveries/s</th><th>p50</th><th>p99</th><th>receipt p99</th><th>lost</th><th>doubled</th><th>p99 &lt; 100 ms</th></tr>")
		for _, s := range r.Steps {
			mark := `<span class="ok">yes</span>`
			if !s.UnderTarget {
				mark = `<span class="failed">no</span> ` + esc(s.StopReason)
			}
			fmt.Fprintf(&b, "<tr><td>%.0f</td><td>%.0f</td><td>%.0f</td><td>%s</td><td>%s</td><td>%s</td><td>%d</td><td>%d</td><td>%s</td></tr>",
				s.Rate, s.SendRate, s.DeliveryRate, fmtMS(s.P50), fmtMS(s.P99), fmtMS(s.ReceiptP99), s.Lost, s.Doubled, mark)
		}
		b.WriteString("</table>\n")
	}
	if len(r.Lines) > 0 {
		b.WriteString("<h2>Figures</h2><table>")
		for _, l := range r.Lines {
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s %s</td><td>%s</td></tr>", esc(l.Name), fmtValue(l.Value), esc(l.Unit), esc(l.Note))
		}
		b.WriteString("</table>\n")
	}
	if len(r.Checks) > 0 {
		b.WriteString("<h2>Checks</h2><table>")
		for _, c := range r.Checks {
			mark := `<span class="ok">ok</span>`
			if !c.OK {
				mark = `<span class="failed">FAILED</span>`
			}
			fmt.Fprintf(&b, "<tr><td>%s</td><td>%s</td><td>%s</td></tr>", esc(c.Name), mark, esc(c.Detail))
		}
		b.WriteString("</table>\n")
	}
	if len(r.Steps) > 1 {
		xs, p99, target := make([]float64, len(r.Steps)), make([]float64, len(r.Steps)), make([]float64, len(r.Steps))
		for i, s := range r.Steps {
			xs[i], p99[i], target[i] = s.DeliveryRate, s.P99, ms(fanoutLatencyTarget)
		}
		b.WriteString("<h2>Steps: delivery p99 by deliveries per second</h2>\n")
		b.WriteString(xyChart("p99 by rate", "deliveries per second", "ms", xs, []series{
			{name: "p99", color: "#d9661f", ys: p99}, {name: "100 ms", color: "#999", ys: target}}))
	}
	for _, l := range r.Latencies {
		if l.Count == 0 {
			continue
		}
		fmt.Fprintf(&b, "<h2>%s</h2>\n", esc(l.Name))
		xs := make([]float64, len(l.Timeline))
		p50, p99, rate := make([]float64, len(xs)), make([]float64, len(xs)), make([]float64, len(xs))
		prev := 0.0
		for i, p := range l.Timeline {
			xs[i], p50[i], p99[i] = p.T, p.P50, p.P99
			if d := p.T - prev; d > 0 {
				rate[i] = float64(p.Count) / d
			}
			prev = p.T
		}
		b.WriteString(lineChart(l.Name+": latency per second", "ms", xs, []series{
			{name: "p50", color: "#3b6fb6", ys: p50}, {name: "p99", color: "#d9661f", ys: p99}}))
		b.WriteString(lineChart(l.Name+": completed per second", "per second", xs, []series{
			{name: "per second", color: "#2e8b57", ys: rate}}))
		b.WriteString(histogramChart(l.Name+": latency histogram", l.Buckets))
	}
	fmt.Fprintf(&b, "<p><small>Generated by <code>%s</code>.</small></p></body></html>\n", esc(strings.TrimSpace("plop bench "+r.Scenario)))
	_, err := w.Write(b.Bytes())
	return err
}
