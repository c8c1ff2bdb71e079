//go:build race

package raft

// raceOn: the tests run under the race detector. It makes the seeded
// simulation (no goroutines, nothing for it to find) ten times slower, so
// it runs fewer seeds.
const raceOn = true
