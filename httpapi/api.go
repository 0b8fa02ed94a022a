// Package httpapi is Plop's REST transport: the /api/v1 handlers, the operations endpoints
// (/healthz, /readyz, /metrics) and the middleware around them. Handlers decode a request,
// call one method of *app.App with the caller's user id, and encode the answer; the one place
// where errors become HTTP statuses is writeError.
package httpapi

import (
	"context"
	"database/sql"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plop-chat/plop/app"
)

// Default body limits.
const (
	DefaultMaxBodyBytes   = 1 << 20  // JSON request bodies
	DefaultMaxUploadBytes = 10 << 20 // avatar uploads
)

// Options configure the REST transport. The zero value of every field is usable.
type Options struct {
	// Logger receives the access log and the errors behind internal answers.
	// Default slog.Default().
	Logger *slog.Logger
	// AllowedOrigins lists the browser origins allowed by CORS ("*" allows any). Empty: no
	// CORS headers are sent.
	AllowedOrigins []string
	// MaxBodyBytes bounds a JSON request body. Default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxUploadBytes bounds an uploaded avatar. Default DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// TrustProxy takes the client address from the last X-Forwarded-For entry, the one the
	// proxy in front of this node appended. Set it only behind such a proxy.
	TrustProxy bool
	// Registry receives the HTTP, Go runtime, process and database metrics; /metrics serves
	// it. Default: a new registry.
	Registry *prometheus.Registry
	// Ready reports whether the node can serve (/readyz). Nil: always ready.
	Ready func(ctx context.Context) error
	// Extra are more patterns served inside the same middleware, such as "/ws" and "/".
	Extra map[string]http.Handler
	// DBStats, when set, is exported as database pool gauges.
	DBStats func() sql.DBStats
}

// API serves the REST calls of Plop.
type API struct {
	app     *app.App
	opt     Options
	log     *slog.Logger
	mux     *http.ServeMux
	metrics *metrics
	// metricsHandler serves Registry at /metrics.
	metricsHandler http.Handler
	cors           *cors
	handler        http.Handler
}

// New returns the REST transport over a with options o.
func New(a *app.App, o Options) *API {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.MaxUploadBytes <= 0 {
		o.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	api := &API{
		app:  a,
		opt:  o,
		log:  o.Logger,
		mux:  http.NewServeMux(),
		cors: newCORS(o.AllowedOrigins),
	}
	api.metrics = newMetrics(o.Registry, o.DBStats, o.Logger)
	api.metricsHandler = newMetricsHandler(api)
	api.register()
	api.handler = api.middleware(api.mux)
	return api
}

// Handler returns the handler serving every route, wrapped in the middleware chain.
func (api *API) Handler() http.Handler { return api.handler }
