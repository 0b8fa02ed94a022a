package bench

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/plop-chat/plop/app"
	"github.com/plop-chat/plop/server"
)

// node is the Plop node under load: started in this process, started as a child process,
// or reached at a URL.
type node struct {
	kind    string // "in-process", "spawned" or "url"
	url     string // http://HOST:PORT
	wsURL   string // ws://HOST:PORT/ws
	dataDir string // where its outbox is; "" when unknown
	pid     int    // its process id; 0 when unknown
	app     *app.App
	close   func() error

	jwtKeyFile string // its signing key, for the other nodes of a cluster the generator starts
}

// nodeAt returns the running node at rawURL; dataDir is where its outbox is, if known.
func nodeAt(cfg Config, rawURL, dataDir string) (*node, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("--url %q: want http://HOST:PORT", rawURL)
	}
	if !isLoopback(u.Hostname()) {
		cfg.Logger.Warn("the node is not on this machine", "url", rawURL)
	}
	ws := *u
	ws.Scheme = map[string]string{"http": "ws", "https": "wss"}[u.Scheme]
	ws.Path = "/ws"
	return &node{kind: "url", url: strings.TrimRight(rawURL, "/"), wsURL: ws.String(), dataDir: dataDir,
		close: func() error { return nil }}, nil
}

// benchNodeConfig is the configuration of a node the generator starts: a fresh data
// directory, cheap password hashing (seeding signs up thousands of users), client addresses
// from X-Forwarded-For (so that sign-up rate limits count each seeded user apart), and
// access tokens that outlive the run.
// jwtKeyFile, when set, is the signing key of the cluster's first node, which every other
// node shares so that a token of one is good at all.
func benchNodeConfig(cfg Config, dataDir, jwtKeyFile string) server.Config {
	sc := server.DefaultConfig()
	sc.Addr = "127.0.0.1:0"
	sc.DataDir = dataDir
	sc.DatabaseURL = cfg.DatabaseURL
	sc.RedisURL = cfg.RedisURL
	sc.JWTKeyFile = jwtKeyFile
	sc.Argon2MemoryKiB = 64
	sc.Argon2Time = 1
	sc.TrustProxy = true
	sc.AccessTokenTTL = 24 * time.Hour
	sc.RefreshTokenTTL = 48 * time.Hour
	sc.LogLevel = "warn"
	sc.ShutdownTimeout = 10 * time.Second
	return sc
}

func startInProcess(ctx context.Context, cfg Config, jwtKeyFile string) (*node, error) {
	dir, cleanup, err := nodeDataDir(cfg)
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "node.log"))
	if err != nil {
		cleanup()
		return nil, fmt.Errorf("node log: %w", err)
	}
	logger := slog.New(slog.NewTextHandler(logFile, &slog.HandlerOptions{Level: slog.LevelWarn}))
	nodeCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	srv, err := server.New(nodeCtx, benchNodeConfig(cfg, dir, jwtKeyFile), logger)
	if err != nil {
		cancel()
		logFile.Close()
		cleanup()
		return nil, fmt.Errorf("start node: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		srv.Close()
		logFile.Close()
		cleanup()
		return nil, fmt.Errorf("listen: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(nodeCtx, ln) }()
	addr := ln.Addr().String()
	n := &node{
		kind: "in-process", url: "http://" + addr, wsURL: "ws://" + addr + "/ws",
		dataDir: dir, pid: os.Getpid(), app: srv.App(), jwtKeyFile: srv.Config().JWTKeyFile,
	}
	n.close = func() error {
		cancel()
		err := errors.Join(<-done, srv.Close(), logFile.Close())
		cleanup()
		return err
	}
	if err := waitReady(ctx, n.url, 10*time.Second); err != nil {
		n.close()
		return nil, err
	}
	return n, nil
}

// nodeDataDir returns the data directory for a node the generator starts: --reuse's, kept,
// or a fresh temporary one, removed by cleanup unless --keep.
func nodeDataDir(cfg Config) (dir string, cleanup func(), err error) {
	if cfg.Reuse != "" {
		if err := os.MkdirAll(cfg.Reuse, 0o700); err != nil {
			return "", nil, fmt.Errorf("--reuse: %w", err)
		}
		return cfg.Reuse, func() {}, nil
	}
	dir, err = os.MkdirTemp("", "plop-bench-")
	if err != nil {
		return "", nil, fmt.Errorf("data dir: %w", err)
	}
	return dir, func() {
		if !cfg.Keep {
			os.RemoveAll(dir)
		}
	}, nil
}

// waitReady polls /readyz until the node answers 200.
func waitReady(ctx context.Context, base string, within time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("node at %s not ready after %s: %v", base, within, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// redactURL hides the password of a database URL.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.User == nil {
		return s
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
