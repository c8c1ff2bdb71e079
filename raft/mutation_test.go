package raft_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/raftspec/raftspec/raft"
	"github.com/stretchr/testify/require"
)

// A mutant is the reference with one classic bug planted (raft-bugs.md),
// made by a textual edit of one file of raft/ and built with `go test
// -overlay`, so the bug lives only in a temporary copy, never in raft/.
// Each must make the tests its run pattern selects fail, with a message
// that contains want.
type mutant struct {
	name     string
	file     string // in raft/
	old, new string // old must occur exactly once in file
	tags     string // build tags: "invariants" for a property of invariants/ to report
	pkg      string // the package whose tests run: "../tests/" (the scenarios) or "." (the core's)
	run      string // -run pattern over pkg
	want     string // what the failure must say: "<Property> violated" for a property
}

// mutants must each be caught, by the named property, in one run of a
// scenario of the harness built with -tags invariants.
var mutants = []mutant{
	{
		// M9, Figure 8: commit an entry of an earlier term by counting replicas.
		name: "CommitPreviousTerm",
		file: "replication.go",
		old:  "if t, _ := r.log.term(n); t != r.currentTerm {",
		new:  "if t, _ := r.log.term(n); t > r.currentTerm {",
		tags: "invariants",
		// The randomized Figure8 scenarios catch it only sometimes; the
		// paper's Figure 8, played step by step on the core, always.
		pkg:  ".",
		run:  "^TestFigure8Paper$",
		want: "LeaderCompleteness violated",
	},
	{
		// M14: votedFor is not persisted.
		name: "ForgetVotedFor",
		file: "persist.go",
		old:  "st := persistentState{r.currentTerm, r.votedFor,",
		new:  "st := persistentState{r.currentTerm, None,",
		tags: "invariants",
		pkg:  "../tests/",
		run:  "^TestInitialElection3A$",
		want: "PersistBeforeSend violated",
	},
	{
		// M7: grant a vote without the up-to-date check (§5.4.1).
		name: "VoteWithoutUpToDate",
		file: "replication.go",
		old:  "(r.votedFor == None || r.votedFor == m.From) &&\n\t\tr.upToDate(m.LastLogIndex, m.LastLogTerm)",
		new:  "(r.votedFor == None || r.votedFor == m.From)",
		tags: "invariants",
		pkg:  "../tests/",
		run:  "^TestBackup3B$",
		want: "LeaderCompleteness violated",
	},
}

// TestMutantsAreCaught builds each mutant and runs its scenario. It takes
// a few seconds per mutant (a build and a scenario), so -short skips it,
// and so does the race detector build (the mutants run without it).
func TestMutantsAreCaught(t *testing.T) {
	runMutants(t, mutants)
}

// runMutants runs each mutant as a subtest, unless -short or the race
// detector build is on.
func runMutants(t *testing.T, ms []mutant) {
	if testing.Short() || raft.RaceOn {
		t.Skip("mutants run in the plain build without -short")
	}
	for _, m := range ms {
		t.Run(m.name, func(t *testing.T) { runMutant(t, m) })
	}
}

// runMutant writes m's file, edited, to a temporary directory, runs m's
// tests on it through a build overlay, and requires them to fail saying
// m.want.
func runMutant(t *testing.T, m mutant) {
	t.Helper()
	src, err := os.ReadFile(m.file)
	require.NoError(t, err)
	require.Equal(t, 1, strings.Count(string(src), m.old), "the code the mutant edits has changed: update the mutant")
	dir := t.TempDir()
	mutated := filepath.Join(dir, m.file)
	require.NoError(t, os.WriteFile(mutated, []byte(strings.Replace(string(src), m.old, m.new, 1)), 0o644))
	abs, err := filepath.Abs(m.file)
	require.NoError(t, err)
	overlay, err := json.Marshal(map[string]map[string]string{"Replace": {abs: mutated}})
	require.NoError(t, err)
	ovl := filepath.Join(dir, "overlay.json")
	require.NoError(t, os.WriteFile(ovl, overlay, 0o644))

	pkg := m.pkg
	if pkg == "" {
		pkg = "."
	}
	args := []string{"test", "-tags", m.tags, "-overlay", ovl, "-count=1", "-failfast", "-run", m.run, pkg}
	out, err := exec.Command("go", args...).CombinedOutput()
	require.Error(t, err, "mutant %s survived go %s:\n%s", m.name, strings.Join(args, " "), out)
	require.Contains(t, string(out), m.want, "mutant %s was caught, but not by %q:\n%s", m.name, m.want, out)
}
