package redis

import (
	"context"
	"errors"
	"strconv"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plop-chat/plop"
)

var _ plop.SessionStore = (*SessionStore)(nil)

// keyGrace is added to the TTL of session, token and code keys. Expiry is decided by the
// times stored in them, against the caller's clock, exactly as in the SQL store; the TTL
// only collects what can no longer be used, so it must never be the one that decides.
const keyGrace = time.Hour

// Keys of the session store:
//
//	<prefix>session:<id>   hash u (user id), c (created ms), e (expires ms), r (revoked ms)
//	<prefix>refresh:<hash> hash s (session id), e (expires ms), x (spent ms)
//
// A live token lives until its expiry; a spent one lives as long as the session its
// successor extended, so that presenting it again is recognized as reuse until then.

// createSessionScript stores a session (KEYS[1]) and its first token (KEYS[2]) unless either
// exists. ARGV: session id, user id, created ms, expires ms, TTL ms.
var createSessionScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 or redis.call('EXISTS', KEYS[2]) == 1 then
  return 0
end
redis.call('HSET', KEYS[1], 'u', ARGV[2], 'c', ARGV[3], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
redis.call('HSET', KEYS[2], 's', ARGV[1], 'e', ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
return 1
`)

// rotateScript spends the token KEYS[1] of session KEYS[3] and stores its successor KEYS[2].
// ARGV: session id, now ms, new expiry ms, TTL ms. It answers {status, user, created,
// expires, revoked}, status one of ok, invalid (unknown, expired or revoked), reused (the
// session is now revoked) and conflict (the successor's hash exists).
var rotateScript = goredis.NewScript(`
local tok = redis.call('HMGET', KEYS[1], 's', 'e', 'x')
if tok[1] ~= ARGV[1] then return {'invalid'} end
local s = redis.call('HMGET', KEYS[3], 'u', 'c', 'e', 'r')
if not s[1] then return {'invalid'} end
if tok[3] then
  if not s[4] then redis.call('HSET', KEYS[3], 'r', ARGV[2]) end
  return {'reused'}
end
if s[4] or tonumber(tok[2]) <= tonumber(ARGV[2]) then return {'invalid'} end
if redis.call('EXISTS', KEYS[2]) == 1 then return {'conflict'} end
redis.call('HSET', KEYS[1], 'x', ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('HSET', KEYS[2], 's', ARGV[1], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
redis.call('HSET', KEYS[3], 'e', ARGV[3])
redis.call('PEXPIRE', KEYS[3], ARGV[4])
return {'ok', s[1], s[2], ARGV[3], false}
`)

// revokeScript revokes session KEYS[2] through its token KEYS[1], keeping an earlier
// revocation. ARGV: session id, now ms. It answers {status, user, created, expires,
// revoked}, status ok or invalid (unknown token).
var revokeScript = goredis.NewScript(`
local sid = redis.call('HGET', KEYS[1], 's')
if sid ~= ARGV[1] then return {'invalid'} end
local s = redis.call('HMGET', KEYS[2], 'u', 'c', 'e', 'r')
if not s[1] then return {'invalid'} end
if not s[4] then
  s[4] = ARGV[2]
  redis.call('HSET', KEYS[2], 'r', ARGV[2])
end
return {'ok', s[1], s[2], s[3], s[4]}
`)

// SessionStore is the plop.SessionStore of a cluster, in Redis with TTLs: every check and
// change of a rotation runs in one Lua script, so two nodes rotating the same token at once
// see one success and one reuse. Sessions live until their refresh token expires; they are
// not kept for an audit trail, unlike the SQL store.
type SessionStore struct {
	c *Client
}

// NewSessionStore returns a SessionStore on c.
func NewSessionStore(c *Client) *SessionStore { return &SessionStore{c: c} }

func (s *SessionStore) sessionKey(id string) string { return s.c.key("session:", id) }
func (s *SessionStore) tokenKey(hash string) string { return s.c.key("refresh:", hash) }

// ttl is the lifetime of keys that must last until expires, seen at now.
func ttl(expires, now time.Time) int64 {
	return (max(expires.Sub(now), 0) + keyGrace).Milliseconds()
}

func ms(t time.Time) string { return strconv.FormatInt(plop.UTC(t).UnixMilli(), 10) }

// errRefreshInvalid is the one answer for unknown, expired and revoked tokens: a client must
// not learn which.
func errRefreshInvalid() error {
	return plop.Errorf(plop.EUnauthenticated, "refresh token is invalid or expired")
}

// CreateSession stores sess with its first refresh token hash, valid until sess.ExpiresAt.
// Returns conflict when the session or the token exists.
func (s *SessionStore) CreateSession(ctx context.Context, sess plop.Session, tokenHash string) error {
	ok, err := createSessionScript.Run(ctx, s.c.rdb,
		[]string{s.sessionKey(sess.ID), s.tokenKey(tokenHash)},
		sess.ID, sess.UserID, ms(sess.CreatedAt), ms(sess.ExpiresAt), ttl(sess.ExpiresAt, sess.CreatedAt)).Int()
	if err != nil {
		return fail("create session", err)
	}
	if ok == 0 {
		return plop.Errorf(plop.EConflict, "session already exists")
	}
	if sess.RevokedAt != nil {
		if _, err := s.RevokeSession(ctx, tokenHash, *sess.RevokedAt); err != nil {
			return err
		}
	}
	return nil
}

// RotateRefreshToken spends the token with oldHash and stores newHash as its successor,
// valid until expires, and returns the session. Unknown, expired or revoked tokens are
// unauthenticated; a spent token revokes its session and returns plop.ErrRefreshTokenReused.
func (s *SessionStore) RotateRefreshToken(ctx context.Context, oldHash, newHash string, expires, now time.Time) (plop.Session, error) {
	// A token's session never changes: reading it first lets the script name every key it
	// touches. Should the token vanish meanwhile, the script finds it gone.
	sid, err := s.c.rdb.HGet(ctx, s.tokenKey(oldHash), "s").Result()
	if errors.Is(err, goredis.Nil) {
		return plop.Session{}, errRefreshInvalid()
	}
	if err != nil {
		return plop.Session{}, fail("rotate refresh token", err)
	}
	res, err := rotateScript.Run(ctx, s.c.rdb,
		[]string{s.tokenKey(oldHash), s.tokenKey(newHash), s.sessionKey(sid)},
		sid, ms(now), ms(expires), ttl(expires, now)).Slice()
	if err != nil {
		return plop.Session{}, fail("rotate refresh token", err)
	}
	sess, status, err := parseSession(sid, res)
	if err != nil {
		return plop.Session{}, err
	}
	switch status {
	case "ok":
		return sess, nil
	case "reused":
		s.c.logger.Warn("refresh token reused; session revoked", "session", sid)
		return plop.Session{ID: sid, UserID: sess.UserID}, plop.ErrRefreshTokenReused
	case "conflict":
		return plop.Session{}, plop.Errorf(plop.EConflict, "refresh token already exists")
	}
	return plop.Session{}, errRefreshInvalid()
}

// RevokeSession revokes the session that the token with tokenHash belongs to, spent or not,
// and returns it; revoking again keeps the first time. Returns unauthenticated when the
// token is unknown.
func (s *SessionStore) RevokeSession(ctx context.Context, tokenHash string, now time.Time) (plop.Session, error) {
	sid, err := s.c.rdb.HGet(ctx, s.tokenKey(tokenHash), "s").Result()
	if errors.Is(err, goredis.Nil) {
		return plop.Session{}, errRefreshInvalid()
	}
	if err != nil {
		return plop.Session{}, fail("revoke session", err)
	}
	res, err := revokeScript.Run(ctx, s.c.rdb,
		[]string{s.tokenKey(tokenHash), s.sessionKey(sid)}, sid, ms(now)).Slice()
	if err != nil {
		return plop.Session{}, fail("revoke session", err)
	}
	sess, status, err := parseSession(sid, res)
	if err != nil {
		return plop.Session{}, err
	}
	if status != "ok" {
		return plop.Session{}, errRefreshInvalid()
	}
	return sess, nil
}

// parseSession reads the {status, user, created, expires, revoked} answer of a script.
func parseSession(id string, res []any) (plop.Session, string, error) {
	bad := func() (plop.Session, string, error) {
		return plop.Session{}, "", errors.New("redis session script: unexpected answer")
	}
	if len(res) == 0 {
		return bad()
	}
	status, _ := res[0].(string)
	if status != "ok" {
		return plop.Session{}, status, nil
	}
	if len(res) < 4 {
		return bad()
	}
	user, _ := res[1].(string)
	created, err1 := msField(res[2])
	expires, err2 := msField(res[3])
	if user == "" || err1 != nil || err2 != nil {
		return bad()
	}
	sess := plop.Session{ID: id, UserID: user, CreatedAt: created, ExpiresAt: expires}
	if len(res) > 4 && res[4] != nil {
		revoked, err := msField(res[4])
		if err != nil {
			return bad()
		}
		sess.RevokedAt = &revoked
	}
	return sess, status, nil
}

// msField reads a time stored as milliseconds since the epoch.
func msField(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, errors.New("not a string")
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(n).UTC(), nil
}

// SessionRevoked reports whether the session was revoked; an unknown (or expired) session
// was not.
func (s *SessionStore) SessionRevoked(ctx context.Context, id string) (bool, error) {
	r, err := s.c.rdb.HGet(ctx, s.sessionKey(id), "r").Result()
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, fail("load session", err)
	}
	return r != "", nil
}
