package tests

import (
	"bytes"
	"io"
	"os"
	"regexp"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

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

// The cluster hands each incarnation its Observer and a seed of its own
// through the Persister (raft.Harness): the seeds differ by server and
// incarnation and are a function of the cluster's seed, and the
// reference's transitions reach the cluster's Observer.
func TestClusterHandsObserverAndSeed(t *testing.T) {
	seeds := func(clusterSeed uint64) []uint64 {
		var got []uint64
		synctest.Test(t, func(t *testing.T) {
			var mu sync.Mutex
			var obs []any
			mk := func(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
				h := p.(raft.Harness)
				mu.Lock()
				got = append(got, h.Seed())
				obs = append(obs, h.Observer())
				mu.Unlock()
				return raft.Make(peers, me, p, applyCh)
			}
			c := NewCluster(t, mk, 3, ClusterOptions{Seed: clusterSeed})
			c.One(1, 3, true)
			c.Restart(0)
			c.Connect(0)
			c.One(2, 3, true)
			for _, o := range obs {
				if o == nil || o != any(c.obs.obs) {
					t.Errorf("an incarnation got Observer %v, want the cluster's %p", o, c.obs.obs)
				}
			}
			if raft.InvariantsOn && c.obs.evaluations() == 0 {
				t.Errorf("the reference reported nothing to the cluster's Observer")
			}
			c.end("seeds", io.Discard)
		})
		return got
	}
	a, b := seeds(7), seeds(7)
	if len(a) != 4 || !slices.Equal(a, b) {
		t.Fatalf("seeds of cluster seed 7: %v, then %v; want 4 (three servers, one restart), the same twice", a, b)
	}
	if len(slices.Compact(slices.Sorted(slices.Values(a)))) != 4 {
		t.Errorf("seeds %v: want one per server and incarnation", a)
	}
	if c := seeds(8); slices.Equal(a, c) {
		t.Errorf("cluster seeds 7 and 8 gave the same incarnation seeds %v", a)
	}
}
