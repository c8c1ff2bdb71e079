package raft

// Exported for the external tests (package raft_test) only.

// RaceOn is raceOn (race_internal_test.go, norace_internal_test.go).
const RaceOn = raceOn
