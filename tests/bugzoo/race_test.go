//go:build race

package bugzoo_test

// raceOn: the race detector is on; the mutants build and run without it.
const raceOn = true
