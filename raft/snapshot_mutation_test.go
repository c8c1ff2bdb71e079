package raft_test

import "testing"

// snapshotMutants plant the compaction bugs of raft-bugs.md M19–M21 in the
// reference, each by a textual edit of one file of raft/, built with `go
// test -overlay` as in mutation_test.go. Each must make the named test of
// this package fail with the named message (the plain build: these tests
// need no -tags invariants).
var snapshotMutants = []mutant{
	{
		// M19: the stale-snapshot rule against the base, not commitIndex:
		// a delayed InstallSnapshot pulls commitIndex back.
		name: "StaleSnapshotAgainstBase",
		file: "replication.go",
		old:  "if m.LastIncludedIndex > r.commitIndex {",
		new:  "if m.LastIncludedIndex > r.log.base {",
		run:  "^TestSnapshotSimulation$",
		want: "commitIndex went from",
	},
	{
		// §7: an InstallSnapshot discards the entries after a matching
		// last included entry, which the leader may have counted.
		name: "DiscardMatchingSuffix",
		file: "log.go",
		old:  "if lt, ok := l.term(i); ok && lt == t && i <= l.lastIndex() {",
		new:  "if false {",
		run:  "^TestInstallSnapshotSuffix$",
		want: "matching_entry",
	},
	{
		// M20: the snapshot read at start is not kept, so the next save
		// loses it.
		name: "ForgetSnapshotAtStart",
		file: "core.go",
		old:  "snapshot:    snapshot,",
		new:  "snapshot:    nil,",
		run:  "^TestSnapshotSimulation$",
		want: "does not decode",
	},
	{
		// M20: the Raft state is saved without the snapshot's base: a
		// restarted node hands its service index 1 again, after the
		// snapshot it restored (or, in other schedules, an older snapshot
		// after newer entries: "does not move past the applied state").
		name: "BaseNotPersisted",
		file: "persist.go",
		old:  "st := persistentState{r.currentTerm, r.votedFor, r.log.base, r.log.baseTerm, r.log.entries}",
		new:  "st := persistentState{r.currentTerm, r.votedFor, 0, 0, r.log.entries}",
		run:  "^TestSnapshotSimulation$",
		want: "service: apply out of order 1 ",
	},
	{
		// M21: Snapshot never trims the log.
		name: "NeverTrim",
		file: "core.go",
		old:  "r.log.compact(index)",
		new:  "_ = index",
		run:  "^TestSnapshotMemoryBounded$",
		want: "want < 2000",
	},
}

// TestSnapshotMutantsAreCaught builds each snapshot mutant and runs its
// test. Like TestMutantsAreCaught, -short and the race build skip it.
func TestSnapshotMutantsAreCaught(t *testing.T) {
	runMutants(t, snapshotMutants)
}
