package bench

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Run runs one scenario and returns what it measured. The run stops by itself: after the
// scenario's duration (or its steps), after MaxOps operations, or after Timeout at the
// latest, seeding included. A Result is returned whenever the measurement happened, even
// with failed checks (see Result.Failed); an error means the run could not be carried out.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.resolved()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Label == "" {
		cfg.Label = cfg.Scenario
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	if lim, err := raiseOpenFileLimit(); err == nil {
		cfg.Logger.Debug("open file limit", "limit", lim)
	}
	res := &Result{
		Label: cfg.Label, Scenario: cfg.Scenario, Command: cfg.Command, Params: params(cfg),
		Machine: thisMachine(), Start: time.Now().UTC(),
	}

	if cfg.Target != "" {
		res.Target = "STOMP broker at " + cfg.Target
		var err error
		switch cfg.Scenario {
		case "connect":
			err = runConnect(ctx, cfg, nil, res)
		case "fanout":
			err = runFanout(ctx, cfg, nil, res)
		}
		return res, err
	}

	if cfg.Reuse != "" {
		users, ok, err := loadSeed(cfg.Reuse, friendsSeedKey(cfg))
		if err != nil {
			return nil, err
		}
		if ok {
			cfg.reused = users
		}
	}
	n, err := startCluster(ctx, cfg)
	if err != nil {
		return nil, err
	}
	res.Target = n.describe(cfg)
	switch cfg.Scenario {
	case "friends":
		err = runFriends(ctx, cfg, n, res)
	case "connect":
		err = runConnect(ctx, cfg, n, res)
	case "fanout":
		err = runFanout(ctx, cfg, n, res)
	case "chat":
		err = runChat(ctx, cfg, n, res)
	}
	if cerr := n.close(); cerr != nil {
		cfg.Logger.Warn("stop nodes", "err", cerr)
	}
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			err = fmt.Errorf("%w (the run took longer than --timeout %s)", err, cfg.Timeout)
		}
		return res, err
	}
	return res, nil
}

// params lists the knobs of the run that matter to its scenario.
func params(c Config) map[string]string {
	p := map[string]string{}
	set := func(k string, v any) { p[k] = fmt.Sprint(v) }
	switch c.Scenario {
	case "friends":
		set("users", c.Users)
		set("friends", c.Friends)
		set("concurrency", c.Concurrency)
		set("duration", c.Duration)
	case "connect":
		set("sessions", c.Sessions)
		set("users", c.Users)
		set("room_size", c.RoomSize)
		set("concurrency", c.Concurrency)
		set("hold", c.Duration)
		set("heartbeat", c.HeartBeat)
	case "fanout":
		set("subscribers", c.RoomSize)
		rates := make([]string, len(c.Rates))
		for i, r := range c.Rates {
			rates[i] = strconv.FormatFloat(r, 'f', -1, 64)
			if r >= 10 {
				rates[i] = strconv.FormatFloat(math.Round(r), 'f', 0, 64)
			}
		}
		set("rates", strings.Join(rates, ","))
		set("step_duration", c.StepDuration)
		set("message_size", c.MessageSize)
	case "chat":
		set("users", c.Users)
		set("room_size", c.RoomSize)
		set("concurrency", c.Concurrency)
		set("duration", c.Duration)
		set("message_size", c.MessageSize)
		set("direct_share", c.DirectShare)
		set("read_share", c.ReadShare)
		set("typing_share", c.TypingShare)
		set("churn_per_s", c.Churn)
	}
	if c.Rate > 0 {
		set("rate", c.Rate)
	}
	if c.Target == "" {
		set("seed", c.Seed)
	}
	if c.Nodes > 1 {
		set("nodes", c.Nodes)
	}
	set("max_ops", strconv.FormatInt(c.MaxOps, 10))
	return p
}

// startCPUProfile profiles this process into path until the returned function is called;
// an empty path profiles nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// raiseOpenFileLimit raises the soft limit on open files to the hard limit: each session
// is a socket (two when the node runs in this process).
func raiseOpenFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// openFileLimit returns the soft limit on open files of this process.
func openFileLimit() uint64 {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0
	}
	return lim.Cur
}
