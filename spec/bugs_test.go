package spec

import (
	"errors"
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/spec/mc"
)

// Every planted bug has a row in PlantedBugs, and is found within its
// bounds, breaking the row's property, with a counterexample that is a real
// path of the spec, of the row's length; for the light cases, a search
// bounded one step short of it finds nothing, so it is shortest. (The
// heavy cases rely on the same search, whose shortest traces
// spec/mc's tests hold against a plain BFS.)
func TestPlantedBugs(t *testing.T) {
	// A million states, a second: no -race, -short or second search.
	heavy := map[Bug]bool{BugFigure8: true, BugNoPrevLogCheck: true}
	bugs := PlantedBugs()
	if len(bugs) != int(BugFastBackupSkip) {
		t.Fatalf("PlantedBugs() has %d rows, want %d", len(bugs), int(BugFastBackupSkip))
	}
	for i, pb := range bugs {
		if b := Bug(i + 1); pb.Bug != b || pb.Config.Bug != b {
			t.Errorf("PlantedBugs()[%d] is bug %s planting %s, want bug %s planting it", i, pb.Bug, pb.Config.Bug, b)
		}
	}
	for _, tc := range bugs {
		t.Run(tc.Bug.String(), func(t *testing.T) {
			heavy := heavy[tc.Bug]
			if heavy && (testing.Short() || raceEnabled) {
				t.Skip("a million states: not under -short or -race")
			}
			cfg := tc.Config
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, cfg, mc.Options{Workers: 2})
			v := res.Violation
			if v == nil {
				t.Fatalf("bug %s not found (%d states, complete %v)", tc.Bug, res.Distinct, res.Complete)
			}
			var iv *invariants.Violation
			if !errors.As(v.Err, &iv) || iv.Property != tc.Property {
				t.Errorf("bug %s broke %v, want %s", tc.Bug, v.Err, tc.Property)
			}
			if got := len(v.Trace) - 1; got != tc.Steps {
				t.Errorf("bug %s: counterexample of %d steps, want %d", tc.Bug, got, tc.Steps)
			}
			checkPath(t, m, v)
			if heavy {
				return
			}
			// Shortest: nothing is broken within one step less.
			short := run(t, cfg, mc.Options{Workers: 2, MaxDepth: len(v.Trace) - 2})
			if short.Violation != nil {
				t.Errorf("bug %s: a search to depth %d found a counterexample of %d steps, shorter than BFS's %d",
					tc.Bug, len(v.Trace)-2, len(short.Violation.Trace)-1, len(v.Trace)-1)
			}
		})
	}
}

// checkPath checks that v's trace starts in the initial state, that each
// step is an action of the spec, and that its last state (or step) breaks
// the property reported, named as the trace names the servers.
func checkPath(t *testing.T, m Model, v *mc.Violation[State, Action]) {
	t.Helper()
	w := m.NewWorker()
	init, _ := m.Init()
	if v.Trace[0].State != init[0] {
		t.Fatalf("trace starts in %+v, not in the initial state", v.Trace[0].State)
	}
	for k := 1; k < len(v.Trace); k++ {
		ok := false
		w.Next(&v.Trace[k-1].State, func(a Action, s *State) {
			ok = ok || a == v.Trace[k].Action && *s == v.Trace[k].State
		})
		if !ok {
			t.Fatalf("trace step %d (%v) is not a step of the spec", k, v.Trace[k].Action)
		}
	}
	last := len(v.Trace) - 1
	err := w.Check(&v.Trace[last].State)
	if err == nil {
		err = w.CheckStep(&v.Trace[last-1].State, v.Trace[last].Action, &v.Trace[last].State)
	}
	if err == nil || err.Error() != v.Err.Error() {
		t.Errorf("the trace's last state gives %v, the report says %v", err, v.Err)
	}
}

// The correct spec has no violation, with each option on.
func TestCorrectSpec(t *testing.T) {
	for _, tc := range []struct {
		cfg   Config
		heavy bool // over 50,000 states: not under -race
	}{
		{Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 2, MaxInFlight: 1, Symmetry: true, FastBackup: true}, false},
		{Config{Servers: 3, Values: 2, MaxTerm: 2, MaxLog: 2, MaxInFlight: 1, Symmetry: true, NoHistory: true}, false},
		{Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 0, MaxInFlight: 1, Symmetry: true, Restart: true, Duplicate: true, Drop: true}, true},
		{Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 0, MaxInFlight: 1, Symmetry: true, SelfVoteMessage: true}, true},
		{Config{Servers: 4, Values: 1, MaxTerm: 2, MaxLog: 0, MaxInFlight: 1, Symmetry: true}, true},
	} {
		if tc.heavy && raceEnabled {
			continue
		}
		res := run(t, tc.cfg, mc.Options{})
		if res.Violation != nil {
			t.Errorf("%s: %v", tc.cfg.String(), res.Violation.Err)
		} else if !res.Complete {
			t.Errorf("%s: incomplete: %s", tc.cfg.String(), res.Stopped)
		}
	}
}
