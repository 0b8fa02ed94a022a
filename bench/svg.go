package bench

import (
	"fmt"
	"html"
	"math"
	"strings"
)

// Hand-written SVG charts for the HTML report: no script, no library, so the report is one
// file that any browser shows.

const (
	chartW, chartH                     = 720.0, 260.0
	padLeft, padRight, padTop, padBott = 64.0, 16.0, 28.0, 40.0
)

// series is one line of a line chart.
type series struct {
	name  string
	color string
	ys    []float64
}

// lineChart draws series over xs (seconds) with a linear y axis from 0.
func lineChart(title, yUnit string, xs []float64, ss []series) string {
	return xyChart(title, "seconds", yUnit, xs, ss)
}

// xyChart draws series over xs with linear axes from 0.
func xyChart(title, xUnit, yUnit string, xs []float64, ss []series) string {
	var b strings.Builder
	svgOpen(&b, title)
	ymax := 0.0
	for _, s := range ss {
		for _, y := range s.ys {
			ymax = max(ymax, y)
		}
	}
	xmax := 0.0
	for _, x := range xs {
		xmax = max(xmax, x)
	}
	if len(xs) == 0 || ymax == 0 || xmax == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="note">no data</text></svg>`, chartW/2, chartH/2)
		return b.String()
	}
	yticks := niceTicks(ymax, 5)
	ytop := yticks[len(yticks)-1]
	xticks := niceTicks(xmax, 8)
	xtop := xticks[len(xticks)-1]
	px := func(x float64) float64 { return padLeft + x/xtop*(chartW-padLeft-padRight) }
	py := func(y float64) float64 { return chartH - padBott - y/ytop*(chartH-padTop-padBott) }
	for _, t := range yticks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, padLeft, py(t), chartW-padRight, py(t))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="ylab">%s</text>`, padLeft-6, py(t)+4, fmtTick(t))
	}
	for _, t := range xticks {
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xlab">%s</text>`, px(t), chartH-padBott+16, fmtTick(t))
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xlab">%s</text>`, (chartW+padLeft)/2, chartH-6, html.EscapeString(xUnit))
	fmt.Fprintf(&b, `<text x="12" y="%.1f" class="axis" transform="rotate(-90 12 %.1f)">%s</text>`, chartH/2, chartH/2, html.EscapeString(yUnit))
	for i, s := range ss {
		var pts []string
		for k, y := range s.ys {
			if k < len(xs) {
				pts = append(pts, fmt.Sprintf("%.1f,%.1f", px(xs[k]), py(y)))
			}
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.5" points="%s"/>`, s.color, strings.Join(pts, " "))
		lx := padLeft + 10 + float64(i)*110
		fmt.Fprintf(&b, `<rect x="%.0f" y="8" width="12" height="4" fill="%s"/><text x="%.0f" y="14" class="legend">%s</text>`,
			lx, s.color, lx+16, html.EscapeString(s.name))
	}
	b.WriteString("</svg>")
	return b.String()
}

// histogramChart draws log-scale latency buckets as bars.
func histogramChart(title string, buckets []Bucket) string {
	var b strings.Builder
	svgOpen(&b, title)
	var top uint64
	for _, bk := range buckets {
		top = max(top, bk.Count)
	}
	if len(buckets) == 0 || top == 0 {
		fmt.Fprintf(&b, `<text x="%.0f" y="%.0f" class="note">no data</text></svg>`, chartW/2, chartH/2)
		return b.String()
	}
	yticks := niceTicks(float64(top), 4)
	ytop := yticks[len(yticks)-1]
	w := (chartW - padLeft - padRight) / float64(len(buckets))
	py := func(y float64) float64 { return chartH - padBott - y/ytop*(chartH-padTop-padBott) }
	for _, t := range yticks {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="grid"/>`, padLeft, py(t), chartW-padRight, py(t))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="ylab">%s</text>`, padLeft-6, py(t)+4, fmtTick(t))
	}
	for i, bk := range buckets {
		x := padLeft + float64(i)*w
		if bk.Count > 0 {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" class="bar"><title>%s–%s ms: %d</title></rect>`,
				x+0.5, py(float64(bk.Count)), max(w-1, 1), chartH-padBott-py(float64(bk.Count)),
				fmtTick(bk.Low), fmtTick(bk.High), bk.Count)
		}
		// Label the decades.
		if d := math.Log10(bk.Low); math.Abs(d-math.Round(d)) < 1e-6 {
			fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" class="tick"/>`, x, chartH-padBott, x, chartH-padBott+4)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xlab">%s</text>`, x, chartH-padBott+16, fmtTick(bk.Low))
		}
	}
	fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" class="xlab">latency, ms (log scale)</text>`, (chartW+padLeft)/2, chartH-6)
	fmt.Fprintf(&b, `<text x="12" y="%.1f" class="axis" transform="rotate(-90 12 %.1f)">count</text>`, chartH/2, chartH/2)
	b.WriteString("</svg>")
	return b.String()
}

func svgOpen(b *strings.Builder, title string) {
	fmt.Fprintf(b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %.0f %.0f" width="%.0f" height="%.0f" role="img" aria-label="%s">`,
		chartW, chartH, chartW, chartH, html.EscapeString(title))
	fmt.Fprintf(b, `<rect x="0" y="0" width="%.0f" height="%.0f" class="bg"/>`, chartW, chartH)
	fmt.Fprintf(b, `<text x="%.0f" y="14" class="title">%s</text>`, chartW-padRight, html.EscapeString(title))
	fmt.Fprintf(b, `<line x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f" class="axisline"/>`, padLeft, chartH-padBott, chartW-padRight, chartH-padBott)
}

// niceTicks returns 0 and evenly spaced round values (1, 2 or 5 times a power of ten)
// up to at least top.
func niceTicks(top float64, n int) []float64 {
	if top <= 0 {
		return []float64{0, 1}
	}
	raw := top / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step := mag
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			step = m * mag
			break
		}
	}
	var out []float64
	for v := 0.0; ; v += step {
		out = append(out, v)
		if v >= top {
			return out
		}
	}
}

func fmtTick(v float64) string {
	switch {
	case v == 0:
		return "0"
	case v >= 1e6:
		return fmt.Sprintf("%gM", math.Round(v/1e5)/10)
	case v >= 1e4:
		return fmt.Sprintf("%gk", math.Round(v/100)/10)
	case v >= 1:
		return fmt.Sprintf("%g", math.Round(v*100)/100)
	}
	return fmt.Sprintf("%.3g", v)
}
