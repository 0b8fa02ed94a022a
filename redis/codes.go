package redis

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/plop-chat/plop"
)

var _ plop.CodeStore = (*CodeStore)(nil)

// Keys of the code store:
//
//	<prefix>code:<lower-case e-mail>  hash h (code hash), e (expires ms), a (attempts), s (sent ms)
//
// The key lives until the code expires (plus keyGrace); the caller still compares
// ExpiresAt with its clock, as it does with the SQL store.

// attemptScript counts one attempt on KEYS[1] if it exists; it answers the attempts so far,
// or -1 when there is no code.
var attemptScript = goredis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
return redis.call('HINCRBY', KEYS[1], 'a', 1)
`)

// CodeStore is the plop.CodeStore of a cluster: one Redis hash per e-mail address, expiring
// with its code.
type CodeStore struct {
	c *Client
}

// NewCodeStore returns a CodeStore on c.
func NewCodeStore(c *Client) *CodeStore { return &CodeStore{c: c} }

func (s *CodeStore) key(email string) string { return s.c.key("code:", strings.ToLower(email)) }

// SaveCode stores code, replacing any earlier code (and its attempts) for the same e-mail.
func (s *CodeStore) SaveCode(ctx context.Context, code plop.VerificationCode) error {
	key := s.key(code.Email)
	sent := code.SentAt
	if sent.IsZero() {
		sent = time.Now()
	}
	_, err := s.c.rdb.TxPipelined(ctx, func(p goredis.Pipeliner) error {
		p.Del(ctx, key)
		p.HSet(ctx, key, "h", code.CodeHash, "e", ms(code.ExpiresAt), "a", code.Attempts, "s", ms(code.SentAt))
		p.PExpire(ctx, key, time.Duration(ttl(code.ExpiresAt, sent))*time.Millisecond)
		return nil
	})
	return fail("save verification code", err)
}

// Code returns the code for email. Returns not_found.
func (s *CodeStore) Code(ctx context.Context, email string) (plop.VerificationCode, error) {
	m, err := s.c.rdb.HGetAll(ctx, s.key(email)).Result()
	if err != nil {
		return plop.VerificationCode{}, fail("load verification code", err)
	}
	if len(m) == 0 {
		return plop.VerificationCode{}, plop.Errorf(plop.ENotFound, "verification code not found")
	}
	c := plop.VerificationCode{Email: strings.ToLower(email), CodeHash: m["h"]}
	var errs [3]error
	c.ExpiresAt, errs[0] = msField(m["e"])
	c.SentAt, errs[1] = msField(m["s"])
	c.Attempts, errs[2] = strconv.Atoi(m["a"])
	for _, err := range errs {
		if err != nil {
			return plop.VerificationCode{}, fmt.Errorf("redis verification code of %s: %w", c.Email, err)
		}
	}
	return c, nil
}

// AddCodeAttempt counts one wrong try and returns the attempts so far. Returns not_found.
func (s *CodeStore) AddCodeAttempt(ctx context.Context, email string) (int, error) {
	n, err := attemptScript.Run(ctx, s.c.rdb, []string{s.key(email)}).Int()
	if err != nil {
		return 0, fail("count verification attempt", err)
	}
	if n < 0 {
		return 0, plop.Errorf(plop.ENotFound, "verification code not found")
	}
	return n, nil
}

// DeleteCode removes the code; removing a missing code is not an error.
func (s *CodeStore) DeleteCode(ctx context.Context, email string) error {
	return fail("delete verification code", s.c.rdb.Del(ctx, s.key(email)).Err())
}
