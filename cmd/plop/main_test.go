package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestVersionAndUsage(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"version"}, noEnv, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "plop ") {
		t.Errorf("version printed %q", out.String())
	}
	if err := run(context.Background(), []string{"frobnicate"}, noEnv, &out, &errOut); err == nil {
		t.Error("unknown command accepted")
	}
	if err := run(context.Background(), nil, noEnv, &out, &errOut); err == nil || !strings.Contains(errOut.String(), "plop serve") {
		t.Errorf("no command: err %v, usage %q", err, errOut.String())
	}
}

func noEnv(string) string { return "" }

func TestMigrateCreatesTheDatabase(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"migrate", "-data-dir", dir, "-log-format", "json"}, noEnv, &out, &errOut); err != nil {
		t.Fatalf("migrate: %v\n%s", err, errOut.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "plop.db")); err != nil {
		t.Fatalf("no database file: %v", err)
	}
	if !strings.Contains(errOut.String(), "migrations applied") {
		t.Errorf("log: %s", errOut.String())
	}
}

// TestServeAndShutDown runs the real command on the embedded defaults, checks that it
// answers, and that cancelling its context (what SIGTERM does) stops it cleanly.
func TestServeAndShutDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	dir := t.TempDir()
	env := map[string]string{"PLOP_ADDR": addr, "PLOP_DATA_DIR": dir, "PLOP_LOG_FORMAT": "json"}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errOut bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve"}, func(k string) string { return env[k] }, &out, &errOut) }()

	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("node never became ready: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, f := range []string{"plop.db", "keys/jwt-ed25519.pem"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("%s not created on first start: %v", f, err)
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("serve returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not stop after its context ended")
	}
	if _, err := http.Get("http://" + addr + "/healthz"); err == nil {
		t.Error("still answering after shutdown")
	}
}
