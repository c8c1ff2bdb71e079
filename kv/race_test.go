//go:build race

package kv_test

// raceOn: the race detector is on; the broken services run without it.
const raceOn = true
