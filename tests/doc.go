// Package tests is raftspec's harness and scenario suite for any Raft
// implementation written against the lab-style API of package raftapi.
//
// It is shaped like Go's conformance suites (testing/fstest.TestFS,
// testing/slogtest.Run): a student passes a *testing.T and a factory,
//
//	func TestMyRaft(t *testing.T) { tests.RunRaft(t, myraft.Make, nil) }
//
// and every scenario of the MIT 6.5840 lab's parts 3A–3D runs as a subtest
// under its lab name, each against a fresh cluster, followed by raftspec's
// own (Scenario.Extra): SnapshotDuringApply3D, which holds a follower's
// service (Cluster.HoldApplier) so that InstallSnapshot arrives while
// committed entries wait to be applied, and VoteAfterRestart3C, which asks
// a restarted server for a second vote in a term it voted in (with
// Network.CutLink).
//
// The pieces:
//   - Network: a simulated network with the lab's RPC semantics (calls by
//     method name, gob deep copies, loss, delay, long reordering);
//   - Persister: in-memory stable storage, copied on crash;
//   - Cluster: servers made by a raftapi.MakeFunc, crash/restart,
//     partitions, the apply checker and the lab's helpers (CheckOneLeader,
//     One, Wait, NCommitted...), exported so students can write their own
//     scenarios;
//   - the scenario table (Scenarios) and RunRaft.
//
// Every scenario runs in virtual time inside testing/synctest, so a suite
// whose lab version takes minutes runs in seconds. This holds for any
// implementation that waits with the time package and channels; one that
// spins (busy-waits) never lets virtual time advance: run it with
// RAFTSPEC_WALLCLOCK=1, which runs the same scenarios on the wall clock.
//
// A goroutine that never blocks stops virtual time, so the lab's 120 s
// limit could never fire; a scenario whose virtual time has not advanced
// for Options.WallLimit of real time (3 minutes by default) ends the test
// binary with a message that says so and names the goroutines that were
// not blocked. A peer that calls again at once when a call is refused
// (an RPC storm: over 10,000 calls within one millisecond of virtual time)
// is named at once, with the busiest methods and peers, and the scenario
// fails on it. A scenario that is merely slow (a CPU-heavy implementation
// under the race detector) runs on: the watchdog looks at the virtual
// time of the network's last call before it says the clock stopped.
//
// At the end of each scenario every server is killed and virtual time runs
// on for 10 s; a goroutine of the scenario still alive after that is
// reported as "goroutine leak after Kill", grouped by where it waits, and
// a scenario whose other checks passed says LEAK in its summary line. On
// the wall clock (no bubble to tell a scenario's goroutines from others'),
// a leak is a goroutine that did not exist before the scenario began.
//
// Each scenario ends with a summary line for people ("  ... Passed --
// Figure83C  time 12.5s  peers 5  rpcs ..."), and with its figures for
// programs: a Stats as one line of JSON in the test attribute StatsAttr
// ("raftspec-stats"), which go test -json reports as an "attr" event.
// raftspec check reads that, not the summary line.
//
// Options select scenarios by name (Run) and by part (Parts: "3A".."3D"
// for RunRaft, "4B" and "4C" for RunKV), the clock (WallClock), and which
// of the harness's own checks to skip (Skip: CheckInvariants,
// CheckLinearizability). Which checks apply depends on the
// implementation: one built with -tags invariants that reports to the
// Observer (the reference), or one that is Inspectable, is checked
// against every property after every delivered RPC; any other is checked
// from outside only: what it applies (order, agreement between servers,
// the apply checks of the lab), what GetState claims (one leader per
// term), what its clients observe (linearizability in the KV suite),
// progress within the lab's bounds, and goroutines left after Kill.
//
// What a pass means, and what it does not:
//   - A pass says that in the runs made, no check failed. The scenarios
//     are randomized: a pass is evidence, not proof. Run with -count and
//     -race, and on the wall clock too (RAFTSPEC_WALLCLOCK=1): virtual
//     time removes interleavings that real scheduling produces.
//   - From outside, a bug that corrupts state that is never applied or
//     never claimed (a log entry a leader overwrites before commit, a
//     votedFor that is not persisted but never matters in the run) cannot
//     be seen. An Inspectable implementation's View is trusted: a View
//     that lies about the state hides what it hides.
//   - The model checker (spec/) explores every interleaving of the spec
//     within small bounds; these scenarios do not do that for an
//     implementation.
//   - Virtual-time bounds (elections within 5 s, the RPC counts) measure
//     the protocol, not CPU cost: a slow implementation passes them.
//
// Every cluster has a seed (ClusterOptions.Seed, else RAFTSPEC_SEED, else
// a random one) from which the harness draws every random choice and the
// reference its election timeouts (raft.Harness). A failed scenario logs
// its seed; RAFTSPEC_SEED repeats those choices, not the goroutine
// interleavings.
//
// The Go tests that run each scenario against the reference, under the
// lab's names (TestFigure83C, TestConcurrent4B), are generated from the
// scenario tables into entrypoints_test.go by go generate ./tests/
// (internal/entrypoints, the same generator and template that write the
// entry points raftspec check DIR adds to a lab package); a test fails
// while that file is stale.
//
// Each cluster has its own invariants Observer, which it hands to every
// server with its Persister (the reference reads it through raft.Harness,
// with a seed for the incarnation's random choices drawn from the
// cluster's), so scenarios in virtual time may run in parallel. On the wall
// clock they must not: the leak check compares the process's goroutines
// before and after a scenario.
package tests

//go:generate go run ../internal/entrypoints/gen
