package httpapi

import (
	"context"
	_ "embed"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/plop-chat/plop"
)

// readyTimeout bounds a readiness check.
const readyTimeout = 2 * time.Second

// openAPI is the OpenAPI 3.0 document of the REST API, served at /api/v1/openapi.yaml.
// docs/openapi.yaml is a copy of it (go generate keeps it so, and a test checks it).
//
//go:generate cp openapi.yaml ../docs/openapi.yaml
//go:embed openapi.yaml
var openAPI []byte

// GET /healthz → 200 "ok" while the process runs.
func (api *API) healthz(w http.ResponseWriter, r *http.Request) error {
	writeText(w, "ok\n")
	return nil
}

// GET /readyz → 200 "ready" when Ready succeeds within readyTimeout, else 503 unavailable.
func (api *API) readyz(w http.ResponseWriter, r *http.Request) error {
	if api.opt.Ready != nil {
		ctx, cancel := context.WithTimeout(r.Context(), readyTimeout)
		defer cancel()
		if err := api.opt.Ready(ctx); err != nil {
			api.log.LogAttrs(r.Context(), slog.LevelWarn, "not ready",
				slog.String("request_id", requestIDOf(r)), slog.String("err", err.Error()))
			return plop.Errorf(plop.EUnavailable, "not ready")
		}
	}
	writeText(w, "ready\n")
	return nil
}

// GET /metrics → the Prometheus registry.
func (api *API) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	api.metricsHandler.ServeHTTP(w, r)
	return nil
}

func newMetricsHandler(api *API) http.Handler {
	return promhttp.HandlerFor(api.opt.Registry, promhttp.HandlerOpts{
		ErrorLog:      slog.NewLogLogger(api.log.Handler(), slog.LevelWarn),
		ErrorHandling: promhttp.ContinueOnError,
	})
}

// GET /api/v1/openapi.yaml → the OpenAPI document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	h := w.Header()
	h.Set("Content-Type", "application/yaml")
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("Content-Length", strconv.Itoa(len(openAPI)))
	_, _ = w.Write(openAPI)
	return nil
}

func writeText(w http.ResponseWriter, s string) {
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(s))
}
