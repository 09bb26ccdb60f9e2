package rendezvous

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics are the server's Prometheus metrics, in a registry of their own
// (not the global one) that also holds the Go runtime and process
// collectors. Every method is safe on a nil *Metrics and then does
// nothing, so the server calls them unconditionally. Labels take only
// values the server chooses (operation names, error codes, fixed
// reasons), never anything a client sent, so their number stays bounded.
type Metrics struct {
	reg *prometheus.Registry

	connsOpened   prometheus.Counter
	connsClosed   prometheus.Counter
	connsRejected *prometheus.CounterVec
	connsOpen     prometheus.Gauge
	online        prometheus.Gauge
	loginsOK      prometheus.Counter
	loginsFailed  *prometheus.CounterVec
	relayQueued   prometheus.Counter
	relayDeliv    prometheus.Counter
	relayExpired  prometheus.Counter
	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
}

// NewMetrics makes the metrics and their registry, with the Go runtime
// and process collectors.
func NewMetrics() *Metrics {
	const ns = "lanchat_rendezvous"
	m := &Metrics{
		reg:           prometheus.NewRegistry(),
		connsOpened:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "connections_opened_total", Help: "Connections accepted."}),
		connsClosed:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "connections_closed_total", Help: "Connections closed."}),
		connsRejected: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "connections_rejected_total", Help: "Connections refused or dropped, by reason."}, []string{"reason"}),
		connsOpen:     prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "connections_open", Help: "Connections open now."}),
		online:        prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Name: "sessions_online", Help: "Users logged in now."}),
		loginsOK:      prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "logins_ok_total", Help: "Successful logins, registrations and resumes."}),
		loginsFailed:  prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "logins_failed_total", Help: "Failed logins, by reason."}, []string{"reason"}),
		relayQueued:   prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "relay_queued_total", Help: "Envelopes stored for offline delivery."}),
		relayDeliv:    prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "relay_delivered_total", Help: "Envelopes acknowledged by their recipient."}),
		relayExpired:  prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "relay_expired_total", Help: "Envelopes deleted undelivered after the retention time."}),
		requests:      prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total", Help: "Requests by operation and result code."}, []string{"op", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "lanchat_request_duration_seconds",
			Help: "Time to run a request, by operation.",
			// From 100µs (a ping) to 10s (a login queued behind a storm
			// of password hashes).
			Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"op"}),
	}
	m.reg.MustRegister(m.connsOpened, m.connsClosed, m.connsRejected, m.connsOpen, m.online,
		m.loginsOK, m.loginsFailed, m.relayQueued, m.relayDeliv, m.relayExpired, m.requests, m.latency,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// WatchRelayCommits exports what the store's relay group commit did:
// commits() returns the transactions committed (one fsync each) and the
// relay writes (relay.send batches, relay.ack calls) they carried.
func (m *Metrics) WatchRelayCommits(commits func() (txs, writes uint64)) {
	if m == nil {
		return
	}
	const ns = "lanchat_rendezvous"
	m.reg.MustRegister(
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "relay_commits_total", Help: "Relay transactions committed (one fsync each)."},
			func() float64 { n, _ := commits(); return float64(n) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: ns, Name: "relay_commit_writes_total", Help: "Relay writes (relay.send batches, relay.ack calls) those transactions carried."},
			func() float64 { _, n := commits(); return float64(n) }))
}

// ConnOpened counts an accepted connection.
func (m *Metrics) ConnOpened() {
	if m != nil {
		m.connsOpened.Inc()
		m.connsOpen.Inc()
	}
}

// ConnClosed counts a closed connection.
func (m *Metrics) ConnClosed() {
	if m != nil {
		m.connsClosed.Inc()
		m.connsOpen.Dec()
	}
}

// ConnRejected counts a refused or dropped connection.
func (m *Metrics) ConnRejected(reason string) {
	if m != nil {
		m.connsRejected.WithLabelValues(reason).Inc()
	}
}

// SessionsOnline sets the number of logged-in users.
func (m *Metrics) SessionsOnline(n int) {
	if m != nil {
		m.online.Set(float64(n))
	}
}

// LoginOK counts a successful login, registration or resume.
func (m *Metrics) LoginOK() {
	if m != nil {
		m.loginsOK.Inc()
	}
}

// LoginFailed counts a failed login.
func (m *Metrics) LoginFailed(reason string) {
	if m != nil {
		m.loginsFailed.WithLabelValues(reason).Inc()
	}
}

// RelayQueued counts a stored envelope.
func (m *Metrics) RelayQueued() {
	if m != nil {
		m.relayQueued.Inc()
	}
}

// RelayDelivered counts acknowledged envelopes.
func (m *Metrics) RelayDelivered(n int) {
	if m != nil {
		m.relayDeliv.Add(float64(n))
	}
}

// RelayExpired counts envelopes dropped after retention.
func (m *Metrics) RelayExpired(n int) {
	if m != nil {
		m.relayExpired.Add(float64(n))
	}
}

// ObserveRequest records one request's duration and result code ("ok" on
// success).
func (m *Metrics) ObserveRequest(op string, d time.Duration, code string) {
	if m != nil {
		m.latency.WithLabelValues(op).Observe(d.Seconds())
		m.requests.WithLabelValues(op, code).Inc()
	}
}

// Handler serves the metrics in the Prometheus exposition format. On a
// nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.NotFoundHandler()
	}
	return promhttp.InstrumentMetricHandler(m.reg, promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg}))
}

// ServeMetrics serves /metrics (m's registry) and /healthz on addr until
// ctx ends, then shuts the HTTP server down gracefully and returns nil.
// /healthz answers 200 "ok" while health returns nil (or is nil), and
// 503 with health's error otherwise. log may be nil (slog.Default()).
func ServeMetrics(ctx context.Context, addr string, m *Metrics, health func() error, log *slog.Logger) error {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("metrics: listen: %w", err)
	}
	return ServeMetricsListener(ctx, ln, m, health, log)
}

// ServeMetricsListener is ServeMetrics on a listener the caller opened;
// it closes ln when it returns.
func ServeMetricsListener(ctx context.Context, ln net.Listener, m *Metrics, health func() error, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if health != nil {
			if err := health(); err != nil {
				http.Error(w, "unhealthy: "+err.Error(), http.StatusServiceUnavailable)
				return
			}
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	})
	hs := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.Info("metrics listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("metrics: serve: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		log.Warn("metrics: shutdown did not finish in time; closing", "err", err)
		hs.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("metrics: serve: %w", err)
	}
	log.Info("metrics stopped")
	return nil
}
