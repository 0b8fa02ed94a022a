package httpapi

import (
	"database/sql"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the HTTP request metrics, labelled by route pattern (never by raw path, which
// would grow without bound).
type metrics struct {
	requests *prometheus.CounterVec   // plop_http_requests_total{route, method, status}
	duration *prometheus.HistogramVec // plop_http_request_duration_seconds{route}
	inflight prometheus.Gauge         // plop_http_requests_in_flight
}

// unmatchedRoute labels requests that matched no pattern (answered by CORS or the mux).
const unmatchedRoute = "unmatched"

func newMetrics(reg *prometheus.Registry, dbStats func() sql.DBStats, log *slog.Logger) *metrics {
	m := &metrics{
		requests: register(reg, log, prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "plop_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"})),
		duration: register(reg, log, prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "plop_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"route"})),
		inflight: register(reg, log, prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plop_http_requests_in_flight",
			Help: "HTTP requests being answered now.",
		})),
	}
	register[prometheus.Collector](reg, log, collectors.NewGoCollector())
	register[prometheus.Collector](reg, log, collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if dbStats != nil {
		register[prometheus.Collector](reg, log, newDBCollector(dbStats))
	}
	return m
}

// register adds c to reg; when an equal collector is registered already (a second API on the
// same registry, or the process collectors added by the caller) it returns that one.
func register[C prometheus.Collector](reg *prometheus.Registry, log *slog.Logger, c C) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	var are prometheus.AlreadyRegisteredError
	if errors.As(err, &are) {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
		return c
	}
	log.Warn("register metrics collector", "err", err)
	return c
}

// observe counts one answered request. Upgraded connections (status 101) are counted but
// not timed: their duration is the connection's life, not an answer's latency.
func (m *metrics) observe(pattern, method string, status int, elapsed time.Duration) {
	if pattern == "" {
		pattern = unmatchedRoute
	}
	m.requests.WithLabelValues(pattern, methodLabel(method), statusLabel(status)).Inc()
	if status != http.StatusSwitchingProtocols {
		m.duration.WithLabelValues(pattern).Observe(elapsed.Seconds())
	}
}

// methodLabel bounds the method label to the methods HTTP defines.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

// statusLabels holds the label of every status code, so that counting allocates nothing.
var statusLabels = func() (s [600]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()

func statusLabel(code int) string {
	if code >= 0 && code < len(statusLabels) {
		return statusLabels[code]
	}
	return strconv.Itoa(code)
}

// dbCollector exports the database pool's statistics at every scrape.
type dbCollector struct {
	stats                      func() sql.DBStats
	maxOpen, open, inUse, idle *prometheus.Desc
	waitCount, waitSeconds     *prometheus.Desc
	closedIdle, closedLifetime *prometheus.Desc
}

func newDBCollector(stats func() sql.DBStats) *dbCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("plop_db_"+name, help, nil, nil)
	}
	return &dbCollector{
		stats:          stats,
		maxOpen:        d("max_open_connections", "Maximum number of open connections to the database."),
		open:           d("open_connections", "Open connections to the database, in use or idle."),
		inUse:          d("in_use_connections", "Connections in use."),
		idle:           d("idle_connections", "Idle connections."),
		waitCount:      d("wait_count_total", "Times a query waited for a free connection."),
		waitSeconds:    d("wait_duration_seconds_total", "Time spent waiting for a free connection."),
		closedIdle:     d("closed_max_idle_total", "Connections closed because of the idle limit."),
		closedLifetime: d("closed_max_lifetime_total", "Connections closed because of their maximum lifetime."),
	}
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.maxOpen, c.open, c.inUse, c.idle, c.waitCount, c.waitSeconds, c.closedIdle, c.closedLifetime} {
		ch <- d
	}
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	gauge := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v)
	}
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge(c.maxOpen, float64(s.MaxOpenConnections))
	gauge(c.open, float64(s.OpenConnections))
	gauge(c.inUse, float64(s.InUse))
	gauge(c.idle, float64(s.Idle))
	counter(c.waitCount, float64(s.WaitCount))
	counter(c.waitSeconds, s.WaitDuration.Seconds())
	counter(c.closedIdle, float64(s.MaxIdleClosed))
	counter(c.closedLifetime, float64(s.MaxLifetimeClosed))
}
