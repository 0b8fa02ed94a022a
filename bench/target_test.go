package bench

import (
	"context"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/plop-chat/plop/internal/servertest"
	"github.com/plop-chat/plop/server"
)

// TestMain lets this test binary stand in for `plop serve` when --spawn starts it.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serveFromEnv())
	}
	os.Exit(m.Run())
}

// serveFromEnv runs a node configured by the PLOP_* variables until SIGTERM, as
// `plop serve` does.
func serveFromEnv() int {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	cfg, err := server.FromEnv(os.Getenv)
	if err != nil {
		return 2
	}
	srv, err := server.New(ctx, cfg, nil)
	if err != nil {
		return 2
	}
	err = srv.ListenAndServe(ctx)
	if cerr := srv.Close(); err != nil || cerr != nil {
		return 1
	}
	return 0
}

func TestSpawnedNodeReportsItsOwnMemory(t *testing.T) {
	cfg := DefaultConfig("connect")
	cfg.Spawn, cfg.Executable = true, os.Args[0]
	cfg.Sessions, cfg.RoomSize, cfg.Concurrency, cfg.Duration = 40, 4, 8, 300*time.Millisecond
	res := runScenario(t, cfg)
	if !strings.HasPrefix(res.Target, "spawned node") || res.Seed.Method != "api" {
		t.Errorf("target %q seeded by %q, want a spawned node seeded through the API", res.Target, res.Seed.Method)
	}
	if res.Ops != 40 {
		t.Errorf("%d sessions, want 40", res.Ops)
	}
	for _, l := range res.Lines {
		if l.Name == "memory per session" && !strings.Contains(l.Note, "node's RSS") {
			t.Errorf("memory per session measured %q, want the node's own", l.Note)
		}
	}
	line(t, res, "generator heap per session")
}

func TestNodeAtURLIsSeededThroughItsOutbox(t *testing.T) {
	node := servertest.Start(t, func(c *server.Config) { c.TrustProxy = true })
	cfg := DefaultConfig("chat")
	cfg.URL, cfg.DataDir = node.URL, node.DataDir
	cfg.Users, cfg.RoomSize, cfg.Concurrency, cfg.Rate, cfg.Duration, cfg.Churn = 12, 4, 4, 60, time.Second, 2
	res := runScenario(t, cfg)
	if res.Target != "node at "+node.URL || res.Ops == 0 {
		t.Errorf("%d messages on %q, want some on the node at %s", res.Ops, res.Target, node.URL)
	}

	// Without X-Forwarded-For trusted, the sign-up limit stops the seeding: the error says
	// how to start the node.
	strict := servertest.Start(t)
	cfg.URL, cfg.DataDir, cfg.Users = strict.URL, strict.DataDir, 30
	_, err := Run(context.Background(), cfg)
	if err == nil || !strings.Contains(err.Error(), "PLOP_TRUST_PROXY=true") {
		t.Errorf("seeding 30 users past the sign-up limit: error %v, want advice on PLOP_TRUST_PROXY", err)
	}

	// And without its data directory, there is no outbox to read codes from.
	cfg.DataDir = ""
	if _, err := Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "--data-dir") {
		t.Errorf("seeding without --data-dir: error %v, want it named", err)
	}
}
