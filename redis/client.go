package redis

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultPrefix starts every key and channel name, so that one Redis can serve other
// programs, and several Plop clusters when each is given its own prefix.
const DefaultPrefix = "plop:"

// Timeouts that make a request fail fast, with a 503, when Redis is unreachable, instead of
// hanging. A URL that sets dial_timeout, read_timeout, write_timeout or pool_timeout keeps
// its own values.
const (
	defaultDialTimeout  = time.Second
	defaultReadTimeout  = time.Second
	defaultWriteTimeout = time.Second
	defaultPoolTimeout  = 2 * time.Second
)

// Client is a connection pool to one Redis server and the key prefix of this cluster. The
// Broker, Presence, Limiter, SessionStore and CodeStore of a node share one Client.
type Client struct {
	rdb    *goredis.Client
	prefix string
	logger *slog.Logger
	// opTimeout bounds a wait that is not a plain command, such as a subscription
	// confirmation: one dial and one read.
	opTimeout time.Duration
}

// Open connects to the Redis server at rawURL and pings it. The URL has the form
// redis://[[user]:password@]host:port/db, or rediss:// for TLS, with optional go-redis query
// parameters (dial_timeout=2s, pool_size=20, ...) and one of Plop's own, prefix, the key
// prefix (default DefaultPrefix). A nil logger means slog.Default(). Errors reaching the
// server wrap plop.ErrUnavailable.
//
// The go-redis library logs through one process-wide logger; the first Open sends those
// lines to logger at debug level, since every failure they describe also comes back as an
// error to the caller.
func Open(ctx context.Context, rawURL string, logger *slog.Logger) (*Client, error) {
	if logger == nil {
		logger = slog.Default()
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("redis url: %w", err)
	}
	q := u.Query()
	prefix := DefaultPrefix
	if q.Has("prefix") {
		prefix = q.Get("prefix")
		q.Del("prefix")
		u.RawQuery = q.Encode()
	}
	opt, err := goredis.ParseURL(u.String())
	if err != nil {
		return nil, fmt.Errorf("redis url %s: %w", u.Redacted(), err)
	}
	has := func(name string) bool { return q.Has(name) }
	if !has("dial_timeout") {
		opt.DialTimeout = defaultDialTimeout
	}
	if !has("read_timeout") {
		opt.ReadTimeout = defaultReadTimeout
	}
	if !has("write_timeout") {
		opt.WriteTimeout = defaultWriteTimeout
	}
	if !has("pool_timeout") {
		opt.PoolTimeout = defaultPoolTimeout
	}
	if !has("max_retries") {
		// One retry covers a pooled connection that died with a restarted server; more
		// would only multiply the wait when the server is really gone.
		opt.MaxRetries = 1
	}
	// A refused dial is an answer: do not try again within the same command.
	opt.DialerRetries = 1
	// CLIENT SETINFO needs Redis 7.2; older servers answer it with an error.
	opt.DisableIdentity = true
	bridgeLogs(logger)

	c := &Client{
		rdb:       goredis.NewClient(opt),
		prefix:    prefix,
		logger:    logger.With("component", "redis"),
		opTimeout: max(opt.DialTimeout, 0) + max(opt.ReadTimeout, 0),
	}
	if c.opTimeout <= 0 {
		c.opTimeout = defaultDialTimeout + defaultReadTimeout
	}
	if err := c.Ping(ctx); err != nil {
		c.rdb.Close()
		return nil, fmt.Errorf("open %s: %w", u.Redacted(), err)
	}
	return c, nil
}

// Ping checks that the server answers; /readyz calls it. Errors wrap plop.ErrUnavailable.
func (c *Client) Ping(ctx context.Context) error {
	return fail("ping", c.rdb.Ping(ctx).Err())
}

// Close closes the connection pool. Close the Broker subscriptions and the Presence
// heartbeat first. A Client made by WithPrefix shares the pool: close only the one from
// Open.
func (c *Client) Close() error {
	return c.rdb.Close()
}

// Prefix returns the key prefix.
func (c *Client) Prefix() string { return c.prefix }

// WithPrefix returns a Client on the same connection pool whose keys start with prefix.
func (c *Client) WithPrefix(prefix string) *Client {
	d := *c
	d.prefix = prefix
	return &d
}

// bridgeOnce guards the installation of the go-redis logger, which is process-wide.
var bridgeOnce sync.Once

// bridgeLogs sends go-redis's own log lines to logger at debug level.
func bridgeLogs(logger *slog.Logger) {
	bridgeOnce.Do(func() { goredis.SetLogger(libraryLogger{logger.With("component", "go-redis")}) })
}

type libraryLogger struct{ l *slog.Logger }

func (g libraryLogger) Printf(ctx context.Context, format string, v ...any) {
	g.l.DebugContext(ctx, fmt.Sprintf(format, v...))
}

// key returns the full name of a key: the prefix followed by parts.
func (c *Client) key(parts ...string) string {
	return c.prefix + strings.Join(parts, "")
}
