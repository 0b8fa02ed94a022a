package auth

import (
	"hash/maphash"
	"sync"
	"time"
)

// verifiedCache remembers the claims of access tokens whose signature was verified, so that
// a client making many requests with one token pays for the Ed25519 check once per token
// rather than once per request. An entry is only ever returned for the identical token
// string, and only while the token has not expired; the cache is bounded.
type verifiedCache struct {
	seed   maphash.Seed
	shards [16]cacheShard
}

type cacheShard struct {
	mu sync.Mutex
	m  map[string]Claims
}

// cacheShardMax bounds each shard; a full shard drops its expired entries, or all of them.
const cacheShardMax = 4096

func newVerifiedCache() *verifiedCache {
	c := &verifiedCache{seed: maphash.MakeSeed()}
	for i := range c.shards {
		c.shards[i].m = make(map[string]Claims)
	}
	return c
}

func (c *verifiedCache) shard(token string) *cacheShard {
	return &c.shards[maphash.String(c.seed, token)%uint64(len(c.shards))]
}

// get returns the claims of token if it was verified before and is still valid at now.
func (c *verifiedCache) get(token string, now time.Time) (Claims, bool) {
	sh := c.shard(token)
	sh.mu.Lock()
	cl, ok := sh.m[token]
	sh.mu.Unlock()
	if !ok || !now.Before(cl.ExpiresAt) {
		return Claims{}, false
	}
	return cl, true
}

// put remembers the claims of a verified token.
func (c *verifiedCache) put(token string, cl Claims, now time.Time) {
	sh := c.shard(token)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if len(sh.m) >= cacheShardMax {
		for k, v := range sh.m {
			if !now.Before(v.ExpiresAt) {
				delete(sh.m, k)
			}
		}
		if len(sh.m) >= cacheShardMax {
			clear(sh.m)
		}
	}
	sh.m[token] = cl
}
