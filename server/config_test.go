package server

import (
	"flag"
	"strings"
	"testing"
	"time"
)

func TestFromEnvAndFlags(t *testing.T) {
	env := map[string]string{
		"PLOP_ADDR":             "127.0.0.1:9000",
		"PLOP_DATA_DIR":         "/srv/plop",
		"PLOP_CORS_ORIGINS":     "https://a.example, https://b.example",
		"PLOP_TRUST_PROXY":      "true",
		"PLOP_ACCESS_TOKEN_TTL": "5m",
		"PLOP_REDIS_URL":        "redis://127.0.0.1:6379/0",
	}
	cfg, err := FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	cfg.Flags(fs)
	if err := fs.Parse([]string{"-addr", ":7000"}); err != nil {
		t.Fatal(err)
	}
	cfg = cfg.Resolved()
	if cfg.Addr != ":7000" {
		t.Errorf("flag should win over the environment: addr %q", cfg.Addr)
	}
	if cfg.DataDir != "/srv/plop" || cfg.DatabaseURL != "sqlite:///srv/plop/plop.db" {
		t.Errorf("data dir %q, database %q", cfg.DataDir, cfg.DatabaseURL)
	}
	if len(cfg.CORSOrigins) != 2 || cfg.CORSOrigins[1] != "https://b.example" {
		t.Errorf("cors origins %q", cfg.CORSOrigins)
	}
	if !cfg.TrustProxy || cfg.AccessTokenTTL != 5*time.Minute || cfg.RedisURL == "" {
		t.Errorf("trust proxy %v, access ttl %s, redis %q", cfg.TrustProxy, cfg.AccessTokenTTL, cfg.RedisURL)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("valid configuration refused: %v", err)
	}
}

func TestFromEnvRejectsMalformedValues(t *testing.T) {
	env := map[string]string{"PLOP_ACCESS_TOKEN_TTL": "soon", "PLOP_TRUST_PROXY": "maybe"}
	_, err := FromEnv(func(k string) string { return env[k] })
	if err == nil || !strings.Contains(err.Error(), "PLOP_ACCESS_TOKEN_TTL") || !strings.Contains(err.Error(), "PLOP_TRUST_PROXY") {
		t.Fatalf("want both bad variables named, got %v", err)
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DatabaseURL = "postgres://db/plop"
	cfg.SMTPURL = "http://mail"
	cfg.RedisURL = "127.0.0.1:6379"
	cfg.LogLevel = "loud"
	cfg.SessionStore = "redis"
	cfg.AccessTokenTTL = time.Second
	err := cfg.Resolved().Validate()
	if err == nil {
		t.Fatal("invalid configuration accepted")
	}
	for _, want := range []string{"PLOP_DATABASE_URL", "PLOP_SMTP_URL", "PLOP_REDIS_URL", "PLOP_LOG_LEVEL", "PLOP_ACCESS_TOKEN_TTL"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error does not name %s:\n%v", want, err)
		}
	}
}

func TestRedactURL(t *testing.T) {
	got := redactURL("mysql://plop:s3cret@db:3306/plop")
	if strings.Contains(got, "s3cret") {
		t.Fatalf("password shown: %s", got)
	}
}
