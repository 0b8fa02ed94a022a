package server

import (
	"context"
	"flag"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestS3URLFromEnvAndFlag(t *testing.T) {
	const fromEnv = "s3://key:secret@127.0.0.1:9000/plop?region=us-east-1&tls=false&path_style=true"
	cfg, err := FromEnv(func(k string) string {
		if k == "PLOP_S3_URL" {
			return fromEnv
		}
		return ""
	})
	if err != nil || cfg.S3URL != fromEnv {
		t.Fatalf("PLOP_S3_URL: %q, %v", cfg.S3URL, err)
	}
	if err := cfg.Resolved().Validate(); err != nil {
		t.Errorf("valid PLOP_S3_URL refused: %v", err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse([]string{"-s3-url", "s3://other@s3.example.com/media"}); err != nil || cfg.S3URL != "s3://other@s3.example.com/media" {
		t.Fatalf("-s3-url: %q, %v", cfg.S3URL, err)
	}
}

func TestValidateS3URLKeepsTheSecret(t *testing.T) {
	for _, bad := range []string{
		"https://key:hunter2@s3.example.com/bucket", // not s3://
		"s3://key:hunter2@s3.example.com",           // no bucket
		"s3://key:hunter2@/bucket",                  // no host
	} {
		cfg := DefaultConfig()
		cfg.S3URL = bad
		err := cfg.Resolved().Validate()
		if err == nil || !strings.Contains(err.Error(), "PLOP_S3_URL") {
			t.Errorf("%s: Validate = %v, want PLOP_S3_URL named", bad, err)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("the error shows the secret: %v", err)
		}
	}
}

func TestUnreachableS3StopsTheNode(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing answers there now
	cfg := DefaultConfig()
	cfg.DataDir = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.S3URL = "s3://key:hunter2@" + addr + "/plop?tls=false&path_style=true"
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := New(ctx, cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		s.Close()
		t.Fatal("a node started on an unreachable bucket")
	}
	if !strings.Contains(err.Error(), "blob store") || strings.Contains(err.Error(), "hunter2") {
		t.Fatalf("error %q should name the blob store and hide the secret", err)
	}
}

func TestSpoolDirDropsStaleUploads(t *testing.T) {
	dir := t.TempDir()
	spool := filepath.Join(dir, "spool")
	if err := os.MkdirAll(spool, 0o700); err != nil {
		t.Fatal(err)
	}
	stale, fresh := filepath.Join(spool, "upload-1"), filepath.Join(spool, "upload-2")
	for _, p := range []string{stale, fresh} {
		if err := os.WriteFile(p, []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * staleSpool)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: Config{DataDir: dir}, log: slog.New(slog.DiscardHandler)}
	got, err := s.spoolDir()
	if err != nil || got != spool {
		t.Fatalf("spoolDir = %q, %v", got, err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a stale staged upload is still there: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a recent staged upload was removed: %v", err)
	}
}
