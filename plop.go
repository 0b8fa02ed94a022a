// Package plop holds the domain of the Plop messenger: its types, its error codes and the
// small interfaces that the services in package app need from the outside world.
//
// The package imports only the standard library. Adapters (sqlstore, inmem, mail, blob, ...)
// implement the interfaces declared here; transports (httpapi, realtime) call the services in
// package app; cmd/plop wires them together.
package plop

import "time"

// Version is the release of this build; cmd/plop overrides it at link time.
var Version = "dev"

// Page limits shared by every paginated list.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

// ClampLimit returns n bounded to [1, MaxPageSize], with DefaultPageSize for n <= 0.
func ClampLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultPageSize
	case n > MaxPageSize:
		return MaxPageSize
	}
	return n
}

// UTC returns t in UTC truncated to the millisecond: the precision every store keeps.
func UTC(t time.Time) time.Time { return t.UTC().Truncate(time.Millisecond) }
