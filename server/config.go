package server

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/plop-chat/plop/app"
)

// Config is everything a node needs to run. Every field has an environment variable and a
// flag of the same meaning (PLOP_ADDR and -addr, ...); flags win over the environment.
type Config struct {
	Addr            string        // PLOP_ADDR: listen address
	DataDir         string        // PLOP_DATA_DIR: SQLite file, keys, outbox, blobs
	DatabaseURL     string        // PLOP_DATABASE_URL: default sqlite://<data dir>/plop.db
	RedisURL        string        // PLOP_REDIS_URL: set to run several nodes (fan-out, presence, limits, codes)
	SessionStore    string        // PLOP_SESSION_STORE: where refresh tokens live: database (default) or redis
	NodeID          string        // PLOP_NODE_ID: this node's name in logs and presence keys; default the host name
	SMTPURL         string        // PLOP_SMTP_URL: unset writes e-mail to <data dir>/outbox
	S3URL           string        // PLOP_S3_URL: S3-compatible bucket for images and files; unset keeps them under <data dir>/blobs
	MailFrom        string        // PLOP_MAIL_FROM
	PublicURL       string        // PLOP_PUBLIC_URL: how clients reach this server, for links
	JWTKeyFile      string        // PLOP_JWT_KEY_FILE: default <data dir>/keys/jwt-ed25519.pem
	CodeSecretFile  string        // PLOP_CODE_SECRET_FILE: key of the e-mailed code hashes; default code-secret beside the JWT key
	CORSOrigins     []string      // PLOP_CORS_ORIGINS: comma-separated origins allowed by CORS
	TrustProxy      bool          // PLOP_TRUST_PROXY: client address from X-Forwarded-For
	AccessTokenTTL  time.Duration // PLOP_ACCESS_TOKEN_TTL
	RefreshTokenTTL time.Duration // PLOP_REFRESH_TOKEN_TTL
	Argon2MemoryKiB uint32        // PLOP_ARGON2_MEMORY_KIB: memory per password hash
	Argon2Time      uint32        // PLOP_ARGON2_TIME: passes per password hash
	LogLevel        string        // PLOP_LOG_LEVEL: debug, info, warn, error
	LogFormat       string        // PLOP_LOG_FORMAT: json, text, or auto (text on a terminal)
	ShutdownTimeout time.Duration // PLOP_SHUTDOWN_TIMEOUT: grace for in-flight requests
	HeartBeat       time.Duration // PLOP_HEARTBEAT: STOMP heart-beat interval the server offers
	FriendsCache    int           // PLOP_FRIENDS_CACHE: friend entries the friends-list cache holds; 0 turns it off

	// App tunes the services beyond what the variables above set (tests shorten timeouts).
	App app.Config
	// PushSettings configure push notifications (see push.go).
	PushSettings
}

// DefaultConfig returns the embedded-defaults configuration: SQLite, outbox folder, one node.
func DefaultConfig() Config {
	return Config{
		Addr:            ":8080",
		DataDir:         "./data",
		SessionStore:    "database",
		MailFrom:        "Plop <no-reply@plop.localhost>",
		AccessTokenTTL:  15 * time.Minute,
		RefreshTokenTTL: 30 * 24 * time.Hour,
		Argon2MemoryKiB: 19 * 1024,
		Argon2Time:      2,
		LogLevel:        "info",
		LogFormat:       "auto",
		ShutdownTimeout: 15 * time.Second,
		HeartBeat:       10 * time.Second,
		FriendsCache:    app.DefaultConfig().FriendsCacheSize,
		PushSettings:    defaultPushSettings(),
	}
}

// Resolved returns c with the defaults that depend on other fields filled in.
func (c Config) Resolved() Config {
	if c.DatabaseURL == "" {
		c.DatabaseURL = "sqlite://" + filepath.Join(c.DataDir, "plop.db")
	}
	if c.JWTKeyFile == "" {
		c.JWTKeyFile = filepath.Join(c.DataDir, "keys", "jwt-ed25519.pem")
	}
	if c.CodeSecretFile == "" {
		// Beside the signing key, so that nodes that share the key share this too.
		c.CodeSecretFile = filepath.Join(filepath.Dir(c.JWTKeyFile), "code-secret")
	}
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	if c.NodeID == "" {
		c.NodeID, _ = os.Hostname()
	}
	c.PushSettings = c.resolvedPush()
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if c.Addr == "" {
		bad("PLOP_ADDR is empty")
	}
	if c.DataDir == "" {
		bad("PLOP_DATA_DIR is empty")
	}
	if c.DatabaseURL != "" && !strings.HasPrefix(c.DatabaseURL, "sqlite:") && !strings.HasPrefix(c.DatabaseURL, "file:") &&
		!strings.HasPrefix(c.DatabaseURL, "mysql:") {
		bad("PLOP_DATABASE_URL %q: want sqlite://PATH or mysql://USER:PASS@HOST:PORT/DB", c.DatabaseURL)
	}
	if c.RedisURL != "" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
			bad("PLOP_REDIS_URL %q: want redis://[:password@]host:port/db or rediss://...", redactURL(c.RedisURL))
		}
	}
	switch c.SessionStore {
	case "database":
	case "redis":
		if c.RedisURL == "" {
			bad("PLOP_SESSION_STORE=redis needs PLOP_REDIS_URL")
		}
	default:
		bad("PLOP_SESSION_STORE %q: want database or redis", c.SessionStore)
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Host == "" {
			bad("PLOP_SMTP_URL: want smtp://[user:pass@]host:port or smtps://...")
		}
	}
	if c.S3URL != "" {
		// The URL holds a secret: never quote it.
		if u, err := url.Parse(c.S3URL); err != nil || u.Scheme != "s3" || u.Host == "" || strings.Trim(u.Path, "/") == "" {
			bad("PLOP_S3_URL: want s3://ACCESS_KEY:SECRET@host:port/bucket[?region=..&tls=..&path_style=..]")
		}
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("PLOP_PUBLIC_URL %q: want http(s)://host[:port]", c.PublicURL)
		}
	}
	for _, o := range c.CORSOrigins {
		if u, err := url.Parse(o); o != "*" && (err != nil || u.Scheme == "" || u.Host == "") {
			bad("PLOP_CORS_ORIGINS: %q is not an origin like https://app.example.com", o)
		}
	}
	if c.AccessTokenTTL < time.Minute || c.AccessTokenTTL > 24*time.Hour {
		bad("PLOP_ACCESS_TOKEN_TTL %s: want between 1m and 24h", c.AccessTokenTTL)
	}
	if c.RefreshTokenTTL < c.AccessTokenTTL {
		bad("PLOP_REFRESH_TOKEN_TTL %s: must be at least PLOP_ACCESS_TOKEN_TTL", c.RefreshTokenTTL)
	}
	if c.Argon2MemoryKiB < 8 || c.Argon2Time < 1 {
		bad("PLOP_ARGON2_MEMORY_KIB must be >= 8 and PLOP_ARGON2_TIME >= 1")
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("PLOP_LOG_LEVEL %q: want debug, info, warn or error", c.LogLevel)
	}
	switch c.LogFormat {
	case "json", "text", "auto":
	default:
		bad("PLOP_LOG_FORMAT %q: want json, text or auto", c.LogFormat)
	}
	if c.HeartBeat < time.Second || c.HeartBeat > 5*time.Minute {
		bad("PLOP_HEARTBEAT %s: want between 1s and 5m", c.HeartBeat)
	}
	if c.ShutdownTimeout <= 0 {
		bad("PLOP_SHUTDOWN_TIMEOUT must be positive")
	}
	if c.FriendsCache < 0 {
		bad("PLOP_FRIENDS_CACHE %d: want 0 (off) or more", c.FriendsCache)
	}
	errs = append(errs, c.validatePush()...)
	return errors.Join(errs...)
}

// Flags registers one flag per setting on fs, with defaults taken from c (so call it on a
// Config already loaded from the environment). Parsing fs then overrides those fields.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address (PLOP_ADDR)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory (PLOP_DATA_DIR)")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "database URL; default sqlite://<data dir>/plop.db (PLOP_DATABASE_URL)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis URL; set it to run several nodes (PLOP_REDIS_URL)")
	fs.StringVar(&c.SessionStore, "session-store", c.SessionStore, "where refresh tokens live: database or redis (PLOP_SESSION_STORE)")
	fs.StringVar(&c.NodeID, "node-id", c.NodeID, "name of this node; default the host name (PLOP_NODE_ID)")
	fs.StringVar(&c.SMTPURL, "smtp-url", c.SMTPURL, "SMTP server URL; unset writes e-mail to <data dir>/outbox (PLOP_SMTP_URL)")
	fs.StringVar(&c.S3URL, "s3-url", c.S3URL, "S3-compatible bucket for images and files, s3://KEY:SECRET@host:port/bucket; unset keeps them under <data dir>/blobs (PLOP_S3_URL)")
	fs.StringVar(&c.MailFrom, "mail-from", c.MailFrom, "sender of e-mail (PLOP_MAIL_FROM)")
	fs.StringVar(&c.PublicURL, "public-url", c.PublicURL, "public base URL of this server (PLOP_PUBLIC_URL)")
	fs.StringVar(&c.JWTKeyFile, "jwt-key-file", c.JWTKeyFile, "Ed25519 signing key (PEM); created if missing (PLOP_JWT_KEY_FILE)")
	fs.StringVar(&c.CodeSecretFile, "code-secret-file", c.CodeSecretFile, "secret keying the hashes of e-mailed codes; created if missing; default beside the JWT key (PLOP_CODE_SECRET_FILE)")
	fs.Func("cors-origins", "comma-separated origins allowed by CORS (PLOP_CORS_ORIGINS)", func(s string) error {
		c.CORSOrigins = splitList(s)
		return nil
	})
	fs.BoolVar(&c.TrustProxy, "trust-proxy", c.TrustProxy, "take the client address from X-Forwarded-For (PLOP_TRUST_PROXY)")
	fs.DurationVar(&c.AccessTokenTTL, "access-token-ttl", c.AccessTokenTTL, "access token lifetime (PLOP_ACCESS_TOKEN_TTL)")
	fs.DurationVar(&c.RefreshTokenTTL, "refresh-token-ttl", c.RefreshTokenTTL, "refresh token lifetime (PLOP_REFRESH_TOKEN_TTL)")
	fs.Func("argon2-memory-kib", "memory per password hash in KiB (PLOP_ARGON2_MEMORY_KIB)", func(s string) error {
		v, err := strconv.ParseUint(s, 10, 32)
		c.Argon2MemoryKiB = uint32(v)
		return err
	})
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (PLOP_LOG_LEVEL)")
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "json, text or auto (PLOP_LOG_FORMAT)")
	fs.DurationVar(&c.HeartBeat, "heartbeat", c.HeartBeat, "STOMP heart-beat interval offered to clients (PLOP_HEARTBEAT)")
	fs.IntVar(&c.FriendsCache, "friends-cache", c.FriendsCache, "friend entries the friends-list cache holds; 0 turns it off (PLOP_FRIENDS_CACHE)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "grace period for in-flight requests (PLOP_SHUTDOWN_TIMEOUT)")
	c.pushFlags(fs)
}

// FromEnv returns DefaultConfig overridden by the PLOP_* variables that getenv finds.
func FromEnv(getenv func(string) string) (Config, error) {
	c := DefaultConfig()
	var errs []error
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	dur := func(name string, dst *time.Duration) {
		if v := getenv(name); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = d
		}
	}
	u32 := func(name string, dst *uint32) {
		if v := getenv(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 32)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", name, err))
			}
			*dst = uint32(n)
		}
	}
	str("PLOP_ADDR", &c.Addr)
	str("PLOP_DATA_DIR", &c.DataDir)
	str("PLOP_DATABASE_URL", &c.DatabaseURL)
	str("PLOP_REDIS_URL", &c.RedisURL)
	str("PLOP_SESSION_STORE", &c.SessionStore)
	str("PLOP_NODE_ID", &c.NodeID)
	str("PLOP_SMTP_URL", &c.SMTPURL)
	str("PLOP_MAIL_FROM", &c.MailFrom)
	str("PLOP_S3_URL", &c.S3URL)
	str("PLOP_PUBLIC_URL", &c.PublicURL)
	str("PLOP_JWT_KEY_FILE", &c.JWTKeyFile)
	str("PLOP_CODE_SECRET_FILE", &c.CodeSecretFile)
	if v := getenv("PLOP_CORS_ORIGINS"); v != "" {
		c.CORSOrigins = splitList(v)
	}
	if v := getenv("PLOP_TRUST_PROXY"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PLOP_TRUST_PROXY: %w", err))
		}
		c.TrustProxy = b
	}
	dur("PLOP_ACCESS_TOKEN_TTL", &c.AccessTokenTTL)
	dur("PLOP_REFRESH_TOKEN_TTL", &c.RefreshTokenTTL)
	u32("PLOP_ARGON2_MEMORY_KIB", &c.Argon2MemoryKiB)
	u32("PLOP_ARGON2_TIME", &c.Argon2Time)
	str("PLOP_LOG_LEVEL", &c.LogLevel)
	str("PLOP_LOG_FORMAT", &c.LogFormat)
	dur("PLOP_SHUTDOWN_TIMEOUT", &c.ShutdownTimeout)
	dur("PLOP_HEARTBEAT", &c.HeartBeat)
	if v := getenv("PLOP_FRIENDS_CACHE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PLOP_FRIENDS_CACHE: %w", err))
		}
		c.FriendsCache = n
	}
	errs = append(errs, c.pushFromEnv(getenv)...)
	return c, errors.Join(errs...)
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
