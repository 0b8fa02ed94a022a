//go:build !race

package realtime_test

// raceEnabled is true under the race detector, which doubles goroutine stacks.
const raceEnabled = false
