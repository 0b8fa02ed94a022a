// Package server wires Plop's adapters, services and transports into one node, from a Config.
// It is the only package that imports everything; cmd/plop parses the configuration and
// hands it here, and the end-to-end tests start real nodes through it.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/auth"
	"github.com/plop-chat/plop/httpapi"
	"github.com/plop-chat/plop/mail"
	"github.com/plop-chat/plop/realtime"
	"github.com/plop-chat/plop/sqlstore"
	"github.com/plop-chat/plop/web"
)

// Server is one running Plop node.
type Server struct {
	cfg     Config
	log     *slog.Logger
	db      *sqlstore.DB
	app     *app.App
	rt      *realtime.Server
	push    *app.PushWorker // nil when PLOP_PUSH_WORKERS is 0
	handler http.Handler
	closers []func() error // run in reverse order by Close
}

// New opens the stores, applies migrations and builds the services and transports of one
// node. Close releases them.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (s *Server, err error) {
	cfg = cfg.Resolved()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	if logger == nil {
		logger = slog.Default()
	}
	s = &Server{cfg: cfg, log: logger}
	built := s // the error returns below set s to nil
	defer func() {
		if err != nil {
			built.Close()
		}
	}()
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}

	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return nil, fmt.Errorf("open database: %w", err)
	}
	s.db = db
	s.closers = append(s.closers, db.Close)

	keys, err := auth.LoadOrCreateKeySet(cfg.JWTKeyFile)
	if err != nil {
		return nil, fmt.Errorf("signing keys: %w", err)
	}
	secret, err := auth.LoadOrCreateSecret(cfg.CodeSecretFile)
	if err != nil {
		return nil, fmt.Errorf("code secret: %w", err)
	}
	mailer, err := newMailer(cfg, logger)
	if err != nil {
		return nil, err
	}
	blobs, err := s.blobStore(ctx)
	if err != nil {
		return nil, err
	}
	spool, err := s.spoolDir()
	if err != nil {
		return nil, err
	}
	sh, err := s.shared(ctx, db)
	if err != nil {
		return nil, err
	}
	webPushKey, err := s.startPush(ctx, db, sh)
	if err != nil {
		return nil, err
	}

	appCfg := cfg.App
	appCfg.AccessTokenTTL = cfg.AccessTokenTTL
	appCfg.RefreshTokenTTL = cfg.RefreshTokenTTL
	appCfg.PublicURL = cfg.PublicURL
	appCfg.WebPushKey = webPushKey
	appCfg.SpoolDir = spool
	appCfg.FriendsCacheSize = cfg.FriendsCache
	if cfg.FriendsCache == 0 {
		appCfg.FriendsCacheSize = -1 // off
	}
	s.app, err = app.New(app.Deps{
		Store:             db,
		Sessions:          sh.sessions,
		VerificationCodes: sh.codes,
		Presence:          sh.presence,
		Broker:            sh.broker,
		Limiter:           sh.limiter,
		Blobs:             blobs,
		Mailer:            mailer,
		Passwords:         auth.Passwords{Params: argon2Params(cfg)},
		Tokens:            auth.NewTokens(keys, "plop", "plop", cfg.AccessTokenTTL),
		Codes:             auth.NewCodeHasher(secret),
		Logger:            logger,
	}, appCfg)
	if err != nil {
		return nil, err
	}
	cacheCtx, stopCache := context.WithCancel(context.WithoutCancel(ctx))
	if err := s.app.StartFriendsCache(cacheCtx); err != nil {
		stopCache()
		return nil, err
	}
	if err := s.app.StartLoginEvents(cacheCtx); err != nil {
		stopCache()
		return nil, err
	}
	s.closers = append(s.closers, func() error { stopCache(); return nil })
	s.startAttachmentSweeper()

	reg := prometheus.NewRegistry()
	s.rt, err = realtime.New(s.app, sh.broker, realtime.Options{
		Logger:         logger,
		Registry:       reg,
		AllowedOrigins: cfg.CORSOrigins,
		HeartBeat:      cfg.HeartBeat,
	})
	if err != nil {
		return nil, fmt.Errorf("real time: %w", err)
	}
	if err := s.rt.Start(context.WithoutCancel(ctx)); err != nil {
		return nil, err
	}
	s.closers = append(s.closers, func() error { return s.closeRealtime(cfg.ShutdownTimeout) })
	api := httpapi.New(s.app, httpapi.Options{
		Logger:         logger,
		AllowedOrigins: cfg.CORSOrigins,
		TrustProxy:     cfg.TrustProxy,
		Registry:       reg,
		Ready:          sh.ready,
		DBStats:        db.Stats,
		Extra: map[string]http.Handler{
			"GET /ws": s.rt,
			"/":       web.Handler(),
		},
	})
	s.handler = api.Handler()
	return s, nil
}

func argon2Params(cfg Config) auth.Argon2Params {
	p := auth.DefaultArgon2
	p.Memory = cfg.Argon2MemoryKiB
	p.Time = cfg.Argon2Time
	return p
}

func newMailer(cfg Config, logger *slog.Logger) (plop.Mailer, error) {
	if cfg.SMTPURL != "" {
		m, err := mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom, logger)
		if err != nil {
			return nil, fmt.Errorf("smtp: %w", err)
		}
		return m, nil
	}
	m, err := mail.NewOutbox(filepath.Join(cfg.DataDir, "outbox"), cfg.MailFrom, logger)
	if err != nil {
		return nil, fmt.Errorf("outbox: %w", err)
	}
	return m, nil
}

// Handler serves the whole node: REST, ops endpoints, real time and the web client.
func (s *Server) Handler() http.Handler { return s.handler }

// App returns the services, for tests and tools that seed data.
func (s *Server) App() *app.App { return s.app }

// Config returns the resolved configuration the node runs with.
func (s *Server) Config() Config { return s.cfg }

// Serve answers requests on ln until ctx is done, then shuts down gracefully: it stops
// accepting, lets in-flight requests finish within ShutdownTimeout, and returns.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	s.log.Info("plop listening", "addr", ln.Addr().String(), "version", plop.Version, "database", redactURL(s.cfg.DatabaseURL))
	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "grace", s.cfg.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	// WebSocket connections are hijacked: http.Server.Shutdown does not see them.
	err := errors.Join(hs.Shutdown(sctx), s.closeRealtime(s.cfg.ShutdownTimeout))
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	return err
}

// closeRealtime ends every WebSocket session ("going away") and stops the hub; it is safe
// to call more than once.
func (s *Server) closeRealtime(grace time.Duration) error {
	if s.rt == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	return s.rt.Close(ctx)
}

// ListenAndServe listens on the configured address and calls Serve.
func (s *Server) ListenAndServe(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.cfg.Addr, err)
	}
	return s.Serve(ctx, ln)
}

// Close releases the node's resources. Call it after Serve returns.
func (s *Server) Close() error {
	var errs []error
	for i := len(s.closers) - 1; i >= 0; i-- {
		errs = append(errs, s.closers[i]())
	}
	s.closers = nil
	return errors.Join(errs...)
}

// Migrate applies the embedded schema migrations to the configured database and returns.
func Migrate(ctx context.Context, cfg Config, logger *slog.Logger) error {
	cfg = cfg.Resolved()
	if err := cfg.Validate(); err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	db, err := sqlstore.Open(ctx, cfg.DatabaseURL, logger)
	if err != nil {
		return fmt.Errorf("open database: %w", err)
	}
	return db.Close()
}
