package tests

import (
	"io"
	"regexp"
	"sync"
	"testing"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/raftapi"
)

// The suite against the reference implementation, one Go test per lab
// test, with the lab's names: go test -run TestFigure83C ./tests/

func runReference(t *testing.T, name string) {
	s, ok := Lookup(name)
	if !ok {
		t.Fatalf("no scenario %q", name)
	}
	RunScenario(t, s, raft.Make, nil)
}

func TestInitialElection3A(t *testing.T)           { runReference(t, "InitialElection3A") }
func TestReElection3A(t *testing.T)                { runReference(t, "ReElection3A") }
func TestManyElections3A(t *testing.T)             { runReference(t, "ManyElections3A") }
func TestBasicAgree3B(t *testing.T)                { runReference(t, "BasicAgree3B") }
func TestRPCBytes3B(t *testing.T)                  { runReference(t, "RPCBytes3B") }
func TestFollowerFailure3B(t *testing.T)           { runReference(t, "FollowerFailure3B") }
func TestLeaderFailure3B(t *testing.T)             { runReference(t, "LeaderFailure3B") }
func TestFailAgree3B(t *testing.T)                 { runReference(t, "FailAgree3B") }
func TestFailNoAgree3B(t *testing.T)               { runReference(t, "FailNoAgree3B") }
func TestConcurrentStarts3B(t *testing.T)          { runReference(t, "ConcurrentStarts3B") }
func TestRejoin3B(t *testing.T)                    { runReference(t, "Rejoin3B") }
func TestBackup3B(t *testing.T)                    { runReference(t, "Backup3B") }
func TestCount3B(t *testing.T)                     { runReference(t, "Count3B") }
func TestPersist13C(t *testing.T)                  { runReference(t, "Persist13C") }
func TestPersist23C(t *testing.T)                  { runReference(t, "Persist23C") }
func TestPersist33C(t *testing.T)                  { runReference(t, "Persist33C") }
func TestFigure83C(t *testing.T)                   { runReference(t, "Figure83C") }
func TestUnreliableAgree3C(t *testing.T)           { runReference(t, "UnreliableAgree3C") }
func TestFigure8Unreliable3C(t *testing.T)         { runReference(t, "Figure8Unreliable3C") }
func TestReliableChurn3C(t *testing.T)             { runReference(t, "ReliableChurn3C") }
func TestUnreliableChurn3C(t *testing.T)           { runReference(t, "UnreliableChurn3C") }
func TestSnapshotBasic3D(t *testing.T)             { runReference(t, "SnapshotBasic3D") }
func TestSnapshotInstall3D(t *testing.T)           { runReference(t, "SnapshotInstall3D") }
func TestSnapshotInstallUnreliable3D(t *testing.T) { runReference(t, "SnapshotInstallUnreliable3D") }
func TestSnapshotInstallCrash3D(t *testing.T)      { runReference(t, "SnapshotInstallCrash3D") }
func TestSnapshotInstallUnCrash3D(t *testing.T)    { runReference(t, "SnapshotInstallUnCrash3D") }
func TestSnapshotAllCrash3D(t *testing.T)          { runReference(t, "SnapshotAllCrash3D") }
func TestSnapshotInit3D(t *testing.T)              { runReference(t, "SnapshotInit3D") }

// TestScenarioTable keeps the table and the tests above in step.
func TestScenarioTable(t *testing.T) {
	if got, want := len(Scenarios()), 28; got != want {
		t.Errorf("len(Scenarios()) = %d, want %d (add a Test function for each)", got, want)
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
