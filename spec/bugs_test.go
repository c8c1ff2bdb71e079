package spec

import (
	"errors"
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/spec/mc"
)

// Every planted bug is found, breaking the property it is known to break,
// with a counterexample that is a real path of the spec, of the length
// BFS found when the test was written; for the light cases, a search
// bounded one step short of it finds nothing, so it is shortest. (The
// heavy cases rely on the same search, whose shortest traces
// spec/mc's tests hold against a plain BFS.)
func TestPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		bug   Bug
		cfg   Config
		prop  string
		steps int  // length of the shortest counterexample
		heavy bool // a million states, a second: no -race, -short or second search
	}{
		// §5.4.2, Figure 8: a leader of term 4 commits an entry of term 2
		// by counting replicas, while a server holding an entry of term 3
		// could still be elected and overwrite it.
		{BugFigure8, Config{MaxTerm: 4, MaxLog: 1, NoHistory: true}, ElectableCompletenessName, 30, true},
		// Without its own properties the spec needs a fifth term: the
		// server with the term-3 entry is elected (in the CLI: -figure3only
		// -maxterm 5, 38 steps, tens of seconds).
		{BugVoteNoUpToDate, Config{MaxTerm: 3, MaxLog: 1}, invariants.LeaderCompletenessName, 19, false},
		{BugForgetVote, Config{MaxTerm: 2, MaxLog: 0}, invariants.ElectionSafetyName, 12, false},
		{BugNoPrevLogCheck, Config{MaxTerm: 4, MaxLog: 2, NoHistory: true}, invariants.LogMatchingName, 25, true},
		{BugFastBackupSkip, Config{MaxTerm: 3, MaxLog: 2}, ElectableCompletenessName, 20, false},
	} {
		t.Run(tc.bug.String(), func(t *testing.T) {
			if tc.heavy && (testing.Short() || raceEnabled) {
				t.Skip("a million states: not under -short or -race")
			}
			cfg := tc.cfg
			cfg.Servers, cfg.Values, cfg.MaxInFlight, cfg.Symmetry, cfg.Bug = 3, 1, 1, true, tc.bug
			m, err := NewModel(cfg)
			if err != nil {
				t.Fatal(err)
			}
			res := run(t, cfg, mc.Options{Workers: 2})
			v := res.Violation
			if v == nil {
				t.Fatalf("bug %s not found (%d states, complete %v)", tc.bug, res.Distinct, res.Complete)
			}
			var iv *invariants.Violation
			if !errors.As(v.Err, &iv) || iv.Property != tc.prop {
				t.Errorf("bug %s broke %v, want %s", tc.bug, v.Err, tc.prop)
			}
			if got := len(v.Trace) - 1; got != tc.steps {
				t.Errorf("bug %s: counterexample of %d steps, want %d", tc.bug, got, tc.steps)
			}
			checkPath(t, m, v)
			if tc.heavy {
				return
			}
			// Shortest: nothing is broken within one step less.
			short := run(t, cfg, mc.Options{Workers: 2, MaxDepth: len(v.Trace) - 2})
			if short.Violation != nil {
				t.Errorf("bug %s: a search to depth %d found a counterexample of %d steps, shorter than BFS's %d",
					tc.bug, len(v.Trace)-2, len(short.Violation.Trace)-1, len(v.Trace)-1)
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
