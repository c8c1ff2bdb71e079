package tests

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"sync"
	"testing"

	"github.com/raftspec/raftspec/internal/entrypoints"
	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/raftapi"
)

// runReference runs the Raft scenario name against the reference; the
// entry points (TestFigure83C ...) are generated in entrypoints_test.go.
func runReference(t *testing.T, name string) {
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	RunScenario(t, s, raft.Make, nil)
}

// TestEntryPointsUpToDate: entrypoints_test.go is what the generator
// writes from the scenario tables now, so that a scenario added to a
// table has its Go test, under its lab name.
func TestEntryPointsUpToDate(t *testing.T) {
	var raftNames, kvNames []string
	for _, s := range Scenarios() {
		raftNames = append(raftNames, s.FullName())
	}
	for _, s := range KVScenarios() {
		kvNames = append(kvNames, s.FullName())
	}
	want, err := entrypoints.Render(entrypoints.Reference(raftNames, kvNames))
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(entrypoints.ReferenceFile)
	switch {
	case err != nil:
		t.Errorf("%v: run go generate ./tests/ to write the entry points", err)
	case !bytes.Equal(got, want):
		t.Errorf("%s is stale: run go generate ./tests/ to write the entry points of the %d Raft and %d KV scenarios of the tables",
			entrypoints.ReferenceFile, len(raftNames), len(kvNames))
	}
	lab := 0
	for _, s := range Scenarios() {
		if !s.Extra {
			lab++
		}
	}
	if lab != 28 {
		t.Errorf("Scenarios() has %d lab scenarios, want the lab's 28", lab)
	}
}

// RunRaft, the entry point for other implementations, runs the scenarios
// its Options select, each as a subtest under its lab name, each against
// a fresh cluster.
func TestRunRaftSelectsScenarios(t *testing.T) {
	var mu sync.Mutex
	made := map[string]int{} // subtest name → servers made
	var current string
	mk := func(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
		mu.Lock()
		made[current]++
		mu.Unlock()
		return raft.Make(peers, me, p, applyCh)
	}
	sel := regexp.MustCompile(`^(InitialElection3A|BasicAgree3B)$`)
	t.Run("suite", func(t *testing.T) {
		for _, s := range Scenarios() {
			if !sel.MatchString(s.FullName()) {
				continue
			}
			mu.Lock()
			current = s.FullName()
			mu.Unlock()
			RunRaft(t, mk, &Options{Run: regexp.MustCompile("^" + s.FullName() + "$"), Summary: io.Discard})
		}
	})
	if len(made) != 2 || made["InitialElection3A"] != 3 || made["BasicAgree3B"] != 3 {
		t.Errorf("servers made per scenario = %v, want 3 for each of InitialElection3A and BasicAgree3B only", made)
	}
}

// The register check directly on Raft: a history of reads and writes
// through Start and applyCh under faults, checked with porcupine.
func TestLinearizableRegister3C(t *testing.T) { RunScenario(t, RegisterScenario, raft.Make, nil) }
