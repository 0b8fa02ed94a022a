package bench

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Scenarios lists the scenario names Run accepts.
var Scenarios = []string{"friends", "connect", "fanout", "chat"}

// Config is one run: the scenario, its target and its knobs. Start from DefaultConfig.
type Config struct {
	Scenario string

	// URL is a running node ("http://127.0.0.1:8080"), or several sharing a database and
	// Redis, comma-separated. Empty starts Nodes fresh nodes: in this process, or as child
	// processes when Spawn is set.
	URL string
	// Nodes is how many nodes the generator starts; more than one need a MySQL/MariaDB
	// DatabaseURL and a RedisURL. Default 1.
	Nodes int
	// Spawn starts the node as a child process running Executable ("plop serve"), so that
	// its memory and open files are its own.
	Spawn      bool
	Executable string
	// DataDir is the data directory of the node at URL, where the generator reads the
	// verification codes from the outbox. Without it, only runs that need no sign-ups work.
	DataDir string
	// DatabaseURL and RedisURL configure a node that the generator starts.
	DatabaseURL string
	RedisURL    string
	// Seed is how users, friendships and rooms are made: "api" (the public REST API) or
	// "app" (the services of a node in this process, skipping HTTP; the default for one).
	Seed string
	// Keep keeps the data directory of a node the generator started.
	Keep bool
	// Reuse is a data directory kept from run to run for a node the generator starts: the
	// friends scenario seeds it once and reuses its users while their tokens are valid.
	Reuse string

	// Target, for connect and fanout, is a STOMP-over-WebSocket broker to measure instead of
	// Plop: stomp-ws://HOST:PORT/PATH (or ws://), with Login and Passcode, destinations
	// /topic/bench.*. TargetPID is its process id, to read its memory.
	Target    string
	Login     string
	Passcode  string
	TargetPID int

	Users           int           // seeded users (friends, chat); sessions' users (connect)
	Friends         int           // friends per user (friends)
	Sessions        int           // STOMP sessions to open (connect)
	RoomSize        int           // members of a group room; subscribers (fanout)
	Concurrency     int           // virtual users (friends), senders (chat), dialers (connect)
	Rate            float64       // operations per second, 0 = as fast as possible
	Rates           []float64     // fanout steps, in messages per second
	Duration        time.Duration // measured phase (friends, chat), hold time (connect)
	StepDuration    time.Duration // each fanout step
	MessageSize     int           // bytes of each message body
	MaxOps          int64         // stop after this many operations
	SeedConcurrency int           // parallel calls while seeding
	HeartBeat       time.Duration // STOMP heart-beat the sessions offer (connect, fanout); 0 none
	DirectShare     float64       // chat: share of messages sent to direct rooms
	ReadShare       float64       // chat: share of sends followed by a read receipt
	TypingShare     float64       // chat: share of sends preceded by a typing indicator
	Churn           float64       // chat: reconnects per second
	Baseline        bool          // friends: also measure a minimal handler serving the same JSON
	Timeout         time.Duration // hard bound on the whole run, seeding included

	CPUProfile string    // write a CPU profile of this process over the measured phase
	Progress   io.Writer // one line per second; nil: none
	Logger     *slog.Logger
	Command    string // the command line, for the reports
	Label      string // names the run in tables ("friends-sqlite"); default the scenario

	reused []*user // users of a --reuse seed, loaded before the node starts
}

// DefaultConfig returns the knobs scenario runs with unless told otherwise.
func DefaultConfig(scenario string) Config {
	c := Config{
		Scenario:        scenario,
		MessageSize:     100,
		MaxOps:          50_000_000,
		SeedConcurrency: 32,
		Timeout:         30 * time.Minute,
	}
	switch scenario {
	case "friends":
		c.Users, c.Friends, c.Concurrency, c.Duration = 10_000, 50, 300, 30*time.Second
	case "connect":
		c.Sessions, c.RoomSize, c.Concurrency, c.Duration = 1000, 10, 32, 10*time.Second
	case "fanout":
		c.RoomSize, c.StepDuration = 1000, 5*time.Second
	case "chat":
		c.Users, c.RoomSize, c.Concurrency, c.Duration = 1000, 10, 256, 30*time.Second
		c.Rate = 5000
		c.DirectShare, c.ReadShare, c.TypingShare, c.Churn = 0.5, 0.2, 0.1, 2
	}
	return c
}

// resolved returns c with the knobs that depend on others filled in.
func (c Config) resolved() Config {
	if c.Scenario == "connect" && c.Users <= 0 {
		c.Users = c.Sessions
	}
	if c.Scenario == "fanout" && len(c.Rates) == 0 {
		// Deliveries per second of 10k, 20k, 50k, 100k, 200k, 400k, 800k.
		for _, d := range []float64{10e3, 20e3, 50e3, 100e3, 200e3, 400e3, 800e3} {
			c.Rates = append(c.Rates, max(1, d/float64(max(c.RoomSize, 1))))
		}
	}
	if c.Seed == "" {
		c.Seed = "api"
		if c.URL == "" && !c.Spawn {
			c.Seed = "app"
		}
	}
	if c.Target != "" && c.Login == "" {
		c.Login, c.Passcode = "guest", "guest"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Validate reports every problem of c at once.
func (c Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	known := false
	for _, s := range Scenarios {
		known = known || s == c.Scenario
	}
	if !known {
		bad("unknown scenario %q: want one of %s", c.Scenario, strings.Join(Scenarios, ", "))
	}
	if c.URL != "" {
		for _, raw := range strings.Split(c.URL, ",") {
			raw = strings.TrimSpace(raw)
			if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				bad("--url %q: want http://HOST:PORT", raw)
			}
		}
		if c.Spawn || c.Nodes > 1 {
			bad("--spawn and --nodes start nodes: they cannot be used with --url")
		}
	}
	if c.Nodes > 1 {
		if !strings.HasPrefix(c.DatabaseURL, "mysql:") || c.RedisURL == "" {
			bad("--nodes %d: several nodes share a MySQL/MariaDB --database-url and a --redis-url", c.Nodes)
		}
		if c.Reuse != "" {
			bad("--reuse works with one node")
		}
	}
	if c.Spawn && c.Executable == "" {
		bad("--spawn needs the path of the plop binary")
	}
	if c.Target != "" {
		if c.Scenario != "connect" && c.Scenario != "fanout" {
			bad("--target works with connect and fanout only")
		}
		if _, err := targetWSURL(c.Target); err != nil {
			bad("--target: %v", err)
		}
	}
	if c.Reuse != "" && (c.URL != "" || c.Scenario != "friends") {
		bad("--reuse works with the friends scenario on a node the generator starts")
	}
	if c.Seed != "api" && c.Seed != "app" {
		bad("--seed %q: want api or app", c.Seed)
	}
	if c.Seed == "app" && (c.URL != "" || c.Spawn) {
		bad("--seed app needs the node in this process (no --url, no --spawn)")
	}
	if c.Scenario == "friends" && c.Friends >= c.Users {
		bad("--friends %d needs more than %d users", c.Friends, c.Friends)
	}
	if c.Scenario == "fanout" && c.Target == "" && c.RoomSize > 1000 {
		bad("--room-size %d: a Plop group holds at most 1000 members", c.RoomSize)
	}
	if (c.Scenario == "chat" || c.Scenario == "connect") && c.RoomSize < 2 {
		bad("--room-size must be at least 2")
	}
	for _, s := range []float64{c.DirectShare, c.ReadShare, c.TypingShare} {
		if s < 0 || s > 1 {
			bad("shares (--direct, --read, --typing) are between 0 and 1")
			break
		}
	}
	if c.MessageSize < 24 || c.MessageSize > 8000 {
		bad("--message-size %d: want 24..8000 bytes", c.MessageSize)
	}
	return errors.Join(errs...)
}

// targetWSURL turns stomp-ws://HOST:PORT/PATH into ws://HOST:PORT/PATH (and stomp-wss into
// wss); ws:// and wss:// pass as they are.
func targetWSURL(target string) (string, error) {
	u, err := url.Parse(target)
	if err != nil || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL like stomp-ws://127.0.0.1:15674/ws", target)
	}
	switch u.Scheme {
	case "stomp-ws", "ws":
		u.Scheme = "ws"
	case "stomp-wss", "wss":
		u.Scheme = "wss"
	default:
		return "", fmt.Errorf("%q: want the scheme stomp-ws, stomp-wss, ws or wss", target)
	}
	return u.String(), nil
}

// isLoopback reports whether host (a name or an address, without port) is this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Flags registers the knobs on fs. Durations take Go syntax (30s, 2m); --rates takes
// comma-separated messages per second.
func (c *Config) Flags(fs *flag.FlagSet) {
	fs.StringVar(&c.URL, "url", c.URL, "a running node (http://127.0.0.1:8080), or several, comma-separated; default: start a fresh one")
	fs.BoolVar(&c.Spawn, "spawn", c.Spawn, "start the node as a child process (its own memory and open files)")
	fs.IntVar(&c.Nodes, "nodes", c.Nodes, "nodes to start, sharing --database-url (MySQL/MariaDB) and --redis-url")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory of the node at --url, to read verification codes from its outbox")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "database of the node the generator starts (mysql://...)")
	fs.StringVar(&c.RedisURL, "redis-url", c.RedisURL, "Redis of the node the generator starts")
	fs.StringVar(&c.Seed, "seed", c.Seed, "seed through the REST API (api) or the services of the in-process node (app; the default for it)")
	fs.BoolVar(&c.Keep, "keep", c.Keep, "keep the data directory of the node the generator started")
	fs.StringVar(&c.Reuse, "reuse", c.Reuse, "friends: a data directory kept between runs; seeded once, then reused for 20 hours")
	fs.StringVar(&c.Target, "target", c.Target, "connect, fanout: a STOMP-over-WebSocket broker instead of Plop (stomp-ws://127.0.0.1:15674/ws)")
	fs.StringVar(&c.Login, "login", c.Login, "STOMP login for --target (default guest)")
	fs.StringVar(&c.Passcode, "passcode", c.Passcode, "STOMP passcode for --target (default guest)")
	fs.IntVar(&c.TargetPID, "target-pid", c.TargetPID, "process id of the --target broker, to read its memory")
	fs.IntVar(&c.Users, "users", c.Users, "users to seed")
	fs.IntVar(&c.Friends, "friends", c.Friends, "friends: friends per user")
	fs.IntVar(&c.Sessions, "sessions", c.Sessions, "connect: sessions to open")
	fs.IntVar(&c.RoomSize, "room-size", c.RoomSize, "members of a group room; fanout: subscribers")
	fs.IntVar(&c.Concurrency, "concurrency", c.Concurrency, "virtual users (friends), senders (chat), dialers (connect)")
	fs.Float64Var(&c.Rate, "rate", c.Rate, "operations per second; 0: as fast as possible")
	fs.Func("rates", "fanout: comma-separated steps in messages per second", func(s string) error {
		c.Rates = nil
		for _, p := range strings.Split(s, ",") {
			v, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || v <= 0 {
				return fmt.Errorf("%q is not a positive rate", p)
			}
			c.Rates = append(c.Rates, v)
		}
		return nil
	})
	fs.DurationVar(&c.Duration, "duration", c.Duration, "measured phase (friends, chat); how long sessions stay open (connect)")
	fs.DurationVar(&c.StepDuration, "step-duration", c.StepDuration, "fanout: length of each step")
	fs.IntVar(&c.MessageSize, "message-size", c.MessageSize, "bytes of each message body (24..8000)")
	fs.Int64Var(&c.MaxOps, "max-ops", c.MaxOps, "stop after this many operations")
	fs.IntVar(&c.SeedConcurrency, "seed-concurrency", c.SeedConcurrency, "parallel calls while seeding")
	fs.DurationVar(&c.HeartBeat, "heartbeat", c.HeartBeat, "connect, fanout: STOMP heart-beat the sessions offer; 0 for none")
	fs.Float64Var(&c.DirectShare, "direct", c.DirectShare, "chat: share of messages sent to direct rooms")
	fs.Float64Var(&c.ReadShare, "read", c.ReadShare, "chat: share of sends followed by a read receipt")
	fs.Float64Var(&c.TypingShare, "typing", c.TypingShare, "chat: share of sends preceded by a typing indicator")
	fs.Float64Var(&c.Churn, "churn", c.Churn, "chat: reconnects per second")
	fs.BoolVar(&c.Baseline, "baseline", c.Baseline, "friends: also load a minimal handler serving the same JSON from memory")
	fs.DurationVar(&c.Timeout, "timeout", c.Timeout, "hard bound on the whole run, seeding included")
	fs.StringVar(&c.Label, "label", c.Label, "name of the run in tables (default: the scenario)")
	fs.StringVar(&c.CPUProfile, "cpuprofile", c.CPUProfile, "write a CPU profile of this process (node included when in-process) over the measured phase")
}
