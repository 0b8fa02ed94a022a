package server

import (
	"context"
	"errors"
	"fmt"

	"github.com/plop-chat/plop"
	"github.com/plop-chat/plop/inmem"
	"github.com/plop-chat/plop/redis"
	"github.com/plop-chat/plop/sqlstore"
)

// shared is the state that nodes of one cluster share beyond the database: in-process on a
// single node, in Redis when PLOP_REDIS_URL is set.
type shared struct {
	broker   plop.Broker
	presence plop.PresenceStore
	limiter  plop.Limiter
	sessions plop.SessionStore
	codes    plop.CodeStore
	ready    func(context.Context) error
}

// shared builds the shared state and registers what must be closed.
func (s *Server) shared(ctx context.Context, db *sqlstore.DB) (shared, error) {
	sh := shared{sessions: db, codes: db, ready: db.Ping}
	if s.cfg.RedisURL == "" {
		limiter := inmem.NewLimiter()
		s.closers = append(s.closers, limiter.Close)
		sh.broker, sh.presence, sh.limiter = inmem.NewBroker(), inmem.NewPresence(), limiter
		return sh, nil
	}
	rc, err := redis.Open(ctx, s.cfg.RedisURL, s.log)
	if err != nil {
		return shared{}, fmt.Errorf("open redis: %w", err)
	}
	s.closers = append(s.closers, rc.Close)
	presence := redis.NewPresence(rc, s.cfg.NodeID)
	s.closers = append(s.closers, presence.Close)
	sh.broker = redis.NewBroker(rc)
	sh.presence = presence
	sh.limiter = redis.NewLimiter(rc)
	sh.codes = redis.NewCodeStore(rc)
	if s.cfg.SessionStore == "redis" {
		sh.sessions = redis.NewSessionStore(rc)
	}
	sh.ready = func(ctx context.Context) error {
		return errors.Join(db.Ping(ctx), rc.Ping(ctx))
	}
	return sh, nil
}
