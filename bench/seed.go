package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/plop-chat/plop"
)

// benchPassword is every seeded user's password.
const benchPassword = "bench-password-0123"

// user is one seeded, verified account with a live access token.
type user struct {
	ID    string
	Email string
	Token string
	addr  string // the client address it signs up from
}

// seeder creates users, friendships and rooms, through the REST API or, in-process, through
// the services directly (both behind seedAPI).
type seeder struct {
	cfg   Config
	node  *node
	api   seedAPI
	runID string
	stats SeedStats
}

// SeedStats says what a run seeded and how long it took.
type SeedStats struct {
	Method      string  `json:"method"` // "api" or "app"
	Users       int     `json:"users"`
	Friendships int     `json:"friendships"`
	Rooms       int     `json:"rooms"`
	Seconds     float64 `json:"seconds"`
}

// seedAPI is the handful of calls seeding makes.
type seedAPI interface {
	// close releases idle connections: a connection dialed for a call that was then
	// cancelled, never used, would hold up the node's graceful shutdown.
	close()
	signup(ctx context.Context, u *user, name string) error
	verify(ctx context.Context, u *user, code string) error
	befriend(ctx context.Context, a, b *user) error
	createGroup(ctx context.Context, creator *user, name string, members []string) (string, error)
	createDirect(ctx context.Context, a *user, b string) (string, error)
}

func newSeeder(cfg Config, n *node) (*seeder, error) {
	s := &seeder{cfg: cfg, node: n, runID: randomHex(4), stats: SeedStats{Method: cfg.Seed}}
	switch {
	case cfg.Seed == "app" && n.app != nil:
		s.api = appSeed{n.app}
	case cfg.Seed == "app":
		return nil, errors.New("--seed app needs the node in this process")
	default:
		s.api = newRESTSeed(n.url, cfg.SeedConcurrency)
	}
	return s, nil
}

// close releases the seeder's connections.
func (s *seeder) close() { s.api.close() }

// users signs up n users, reads their codes from the outbox and verifies them.
func (s *seeder) users(ctx context.Context, n int) ([]*user, error) {
	if s.node.dataDir == "" {
		return nil, errors.New("seeding needs the node's outbox to read verification codes: " +
			"give --data-dir of the node at --url (and start it with PLOP_TRUST_PROXY=true)")
	}
	start := time.Now()
	box := newOutbox(s.node.dataDir, start)
	us := make([]*user, n)
	emails := make([]string, n)
	for i := range us {
		us[i] = &user{
			Email: fmt.Sprintf("bench-%s-%06d@plop.test", s.runID, i),
			addr:  syntheticAddr(i),
		}
		emails[i] = us[i].Email
	}
	// Sign up and verify in batches, so that each batch's codes are read in one scan.
	const batch = 2000
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		part := us[lo:hi]
		err := parallel(ctx, s.cfg.Progress, "signup", len(part), s.cfg.SeedConcurrency, func(ctx context.Context, i int) error {
			return s.api.signup(ctx, part[i], fmt.Sprintf("Bench %s %06d", s.runID, lo+i))
		})
		if err != nil {
			return nil, err
		}
		codes, err := box.waitCodes(ctx, emails[lo:hi], 30*time.Second)
		if err != nil {
			return nil, err
		}
		err = parallel(ctx, s.cfg.Progress, "verify", len(part), s.cfg.SeedConcurrency, func(ctx context.Context, i int) error {
			return s.api.verify(ctx, part[i], codes[part[i].Email])
		})
		if err != nil {
			return nil, err
		}
	}
	s.stats.Users += n
	s.stats.Seconds += time.Since(start).Seconds()
	return us, nil
}

// friendships makes each pair friends (a request from the first, accepted by the second).
func (s *seeder) friendships(ctx context.Context, us []*user, pairs [][2]int) error {
	start := time.Now()
	err := parallel(ctx, s.cfg.Progress, "friendships", len(pairs), s.cfg.SeedConcurrency, func(ctx context.Context, i int) error {
		return s.api.befriend(ctx, us[pairs[i][0]], us[pairs[i][1]])
	})
	s.stats.Friendships += len(pairs)
	s.stats.Seconds += time.Since(start).Seconds()
	return err
}

// rooms creates the rooms fn describes, in parallel, and returns their ids in order.
// fn(i) returns the creator and the other members; one other member makes a direct room.
func (s *seeder) rooms(ctx context.Context, n int, fn func(i int) (creator *user, others []string, group bool)) ([]string, error) {
	start := time.Now()
	ids := make([]string, n)
	err := parallel(ctx, s.cfg.Progress, "rooms", n, s.cfg.SeedConcurrency, func(ctx context.Context, i int) error {
		creator, others, group := fn(i)
		var err error
		if group {
			ids[i], err = s.api.createGroup(ctx, creator, fmt.Sprintf("bench %s %d", s.runID, i), others)
		} else {
			ids[i], err = s.api.createDirect(ctx, creator, others[0])
		}
		return err
	})
	s.stats.Rooms += n
	s.stats.Seconds += time.Since(start).Seconds()
	return ids, err
}

// syntheticAddr is the client address user i signs up from: distinct per user, so that
// the node's per-address sign-up limits (with PLOP_TRUST_PROXY) count each one apart.
func syntheticAddr(i int) string {
	return net.IPv4(10, byte(i>>16), byte(i>>8), byte(i)).String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// retryable reports whether a seeding call may succeed when repeated.
func retryable(err error) bool {
	code := plop.ErrorCode(err)
	return code == plop.EUnavailable || code == plop.EInternal
}

// withRetry runs fn up to three times while it fails with a retryable error.
func withRetry(ctx context.Context, fn func() error) error {
	var err error
	for attempt := range 3 {
		if err = fn(); err == nil || !retryable(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(time.Duration(attempt+1) * 100 * time.Millisecond):
		}
	}
	return err
}

// xffTransport sends X-Forwarded-For: addr with every request.
type xffTransport struct {
	base http.RoundTripper
	addr string
}

func (t xffTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", t.addr)
	return t.base.RoundTrip(r)
}
