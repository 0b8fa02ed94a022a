// Package inmem holds the embedded, single-node implementations of the plop interfaces that
// need shared state between connections: the event Broker, the PresenceStore and the rate
// Limiter. They are what `plop serve` uses when nothing else is configured.
//
// Everything here lives in the memory of one process. That is exactly right for one node and
// wrong for several: events published on one node never reach the subscribers of another,
// each node counts only its own connections and its own requests, and a restart forgets
// presence and rate counters. Outgrow this package when you run more than one node behind a
// load balancer; the Redis implementations keep the same behaviour across nodes (both pass
// the suites in internal/contract).
package inmem

// numShards is the number of independently locked parts of the sharded maps. A power of two
// well above the core count keeps lock contention negligible.
const numShards = 64

// shardOf returns the shard index of key: FNV-1a, computed inline so that it allocates
// nothing.
func shardOf(key string) uint32 {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= prime32
	}
	return h % numShards
}
