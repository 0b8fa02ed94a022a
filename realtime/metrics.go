package realtime

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics of the real-time layer. They exist whether or not a registry was given, so the hot
// paths never check.
type metrics struct {
	connections       prometheus.Gauge   // plop_ws_connections
	framesIn          prometheus.Counter // plop_stomp_frames_received_total
	framesOut         prometheus.Counter // plop_stomp_frames_sent_total
	slowConsumers     prometheus.Counter // plop_ws_slow_consumers_total
	heartbeatTimeouts prometheus.Counter // plop_ws_heartbeat_timeouts_total
	eventsDropped     prometheus.Counter // plop_hub_events_dropped_total
}

func newMetrics(reg *prometheus.Registry) (*metrics, error) {
	m := &metrics{
		connections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "plop_ws_connections", Help: "Open WebSocket connections on this node.",
		}),
		framesIn: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plop_stomp_frames_received_total", Help: "STOMP frames received from clients.",
		}),
		framesOut: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plop_stomp_frames_sent_total", Help: "STOMP frames written to clients (heart-beats not counted).",
		}),
		slowConsumers: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plop_ws_slow_consumers_total", Help: "Connections closed because they could not keep up: outbound queue full, or a write timed out.",
		}),
		heartbeatTimeouts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plop_ws_heartbeat_timeouts_total", Help: "Connections closed because the peer fell silent.",
		}),
		eventsDropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "plop_hub_events_dropped_total", Help: "Broker events dropped because the hub queue was full.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.connections, m.framesIn, m.framesOut, m.slowConsumers, m.heartbeatTimeouts, m.eventsDropped} {
		if err := reg.Register(c); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				return nil, fmt.Errorf("realtime: metrics already registered (one Server per registry): %w", err)
			}
			return nil, fmt.Errorf("realtime: register metrics: %w", err)
		}
	}
	return m, nil
}
