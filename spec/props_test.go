package spec

import (
	"errors"
	"testing"

	"github.com/raftspec/raftspec/invariants"
)

func newWorkerFor(t *testing.T, cfg Config) *worker {
	t.Helper()
	p, err := NewSpec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return newWorker(p)
}

func property(err error) string {
	var v *invariants.Violation
	if errors.As(err, &v) {
		return v.Property
	}
	if err != nil {
		return "not a Violation: " + err.Error()
	}
	return "none"
}

func entries(terms ...uint8) (l [MaxLog]Entry, n uint8) {
	for k, t := range terms {
		l[k] = Entry{Term: t, Value: 1}
	}
	return l, uint8(len(terms))
}

// withLog sets server i's log to entries of the given terms (value 1).
func withLog(s *State, i int, terms ...uint8) {
	s.Servers[i].Log, s.Servers[i].LogLen = entries(terms...)
}

// Check catches each state property on a state planted to break it, and
// passes the same state repaired.
func TestCheckCatches(t *testing.T) {
	cfg := Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 3}
	w := newWorkerFor(t, cfg)
	base := initState(3)
	for i := range 3 {
		base.Servers[i].CurrentTerm = 3
	}
	for _, tc := range []struct {
		name string
		want string
		bad  func(s *State)
	}{
		{"two current leaders", invariants.ElectionSafetyName, func(s *State) {
			s.Servers[0].State, s.Servers[1].State = Leader, Leader
		}},
		{"two leaders of term 2, ever", invariants.ElectionSafetyName, func(s *State) {
			s.LeadersIn[2] = 1<<0 | 1<<2
		}},
		{"same index and term, different history", invariants.LogMatchingName, func(s *State) {
			withLog(s, 0, 1, 2)
			withLog(s, 1, 2, 2)
		}},
		{"leader lacks an entry committed in an earlier term", invariants.LeaderCompletenessName, func(s *State) {
			s.Servers[1].State = Leader
			s.NCommitted, s.Committed[0] = 1, CommittedEntry{Entry{2, 1}, 2}
			withLog(s, 0, 2)
		}},
		{"different commands committed at one index", invariants.StateMachineSafetyName, func(s *State) {
			withLog(s, 0, 2)
			withLog(s, 2, 3) // not LogMatching: the terms differ
			s.Servers[0].CommitIndex, s.Servers[2].CommitIndex = 1, 1
		}},
		{"committed prefix off the history", CommittedPrefixName, func(s *State) {
			s.NCommitted, s.Committed[0] = 1, CommittedEntry{Entry{2, 1}, 2}
			withLog(s, 0, 3)
			s.Servers[0].CommitIndex = 1
		}},
		{"electable server lacks a committed entry", ElectableCompletenessName, func(s *State) {
			s.NCommitted, s.Committed[0] = 1, CommittedEntry{Entry{2, 1}, 3}
			withLog(s, 0, 2)
			withLog(s, 1, 2)
			withLog(s, 2, 3) // could win with its own vote and n0's or n1's
		}},
		{"log terms decrease", invariants.LogTermsName, func(s *State) {
			withLog(s, 0, 3, 2)
		}},
		{"commitIndex past the log", invariants.CommitIndexName, func(s *State) {
			s.Servers[0].CommitIndex = 1
			s.NCommitted = 0
		}},
	} {
		s := base
		if err := w.Check(&s); err != nil {
			t.Fatalf("%s: the base state fails: %v", tc.name, err)
		}
		tc.bad(&s)
		if got := property(w.Check(&s)); got != tc.want {
			t.Errorf("%s: Check = %s, want %s", tc.name, got, tc.want)
		}
	}
	// Without history, the same leader is caught through a commitIndex
	// of a server in a lower term; with Figure3Only the spec's own
	// properties are off.
	nh := newWorkerFor(t, Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 3, NoHistory: true, Figure3Only: true})
	s := base
	s.Servers[1].State = Leader
	s.Servers[0].CurrentTerm = 2
	withLog(&s, 0, 2)
	s.Servers[0].CommitIndex = 1
	if got := property(nh.Check(&s)); got != invariants.LeaderCompletenessName {
		t.Errorf("no history: Check = %s, want %s", got, invariants.LeaderCompletenessName)
	}
}

// CheckStep catches the transition properties, and treats a restart as
// the start of a new life, not as a step.
func TestCheckStepCatches(t *testing.T) {
	w := newWorkerFor(t, Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 3, Restart: true})
	prev := initState(3)
	prev.Servers[0].CurrentTerm, prev.Servers[0].State = 2, Leader
	withLog(&prev, 0, 2, 2)
	prev.Servers[0].CommitIndex = 1
	for _, tc := range []struct {
		name string
		a    Action
		want string
		next func(s *State)
	}{
		{"leader drops an entry", Action{Kind: ActHandleAppendEntriesRequest}, invariants.LeaderAppendOnlyName, func(s *State) {
			withLog(s, 0, 2)
		}},
		{"term goes back", Action{Kind: ActTimeout}, invariants.TermMonotonicName, func(s *State) {
			s.Servers[0].CurrentTerm, s.Servers[0].State = 1, Follower
		}},
		{"commitIndex goes back", Action{Kind: ActAdvanceCommitIndex}, invariants.CommitIndexName, func(s *State) {
			s.Servers[0].CommitIndex = 0
		}},
		{"restart loses commitIndex", Action{Kind: ActRestart, I: 0}, "none", func(s *State) {
			s.Servers[0].CommitIndex, s.Servers[0].State = 0, Follower
		}},
		{"another server restarting excuses nothing", Action{Kind: ActRestart, I: 1}, invariants.CommitIndexName, func(s *State) {
			s.Servers[0].CommitIndex, s.Servers[0].State = 0, Follower
		}},
	} {
		next := prev
		tc.next(&next)
		if got := property(w.CheckStep(&prev, tc.a, &next)); got != tc.want {
			t.Errorf("%s: CheckStep = %s, want %s", tc.name, got, tc.want)
		}
	}
}

// Views are what package invariants sees: IDs, roles, votes, logs with int
// commands, and LastApplied = CommitIndex.
func TestViews(t *testing.T) {
	s := initState(3)
	s.Servers[1].CurrentTerm, s.Servers[1].State, s.Servers[1].VotedFor = 2, Leader, 1
	withLog(&s, 1, 2)
	s.Servers[1].CommitIndex = 1
	vs := Views(&s, 3)
	v := vs[1]
	if v.ID != 1 || v.Term != 2 || v.Role != invariants.Leader || v.VotedFor != 1 || v.CommitIndex != 1 || v.LastApplied != 1 ||
		len(v.Log) != 1 || v.Log[0] != (invariants.Entry{Term: 2, Command: 1}) {
		t.Errorf("Views(s)[1] = %+v", v)
	}
	if vs[0].VotedFor != invariants.None || vs[0].Role != invariants.Follower {
		t.Errorf("Views(s)[0] = %+v, want a follower that has not voted", vs[0])
	}
	// The checker's conversion allocates nothing.
	w := newWorkerFor(t, Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 2})
	if n := testing.AllocsPerRun(100, func() { w.Check(&s) }); n != 0 {
		t.Errorf("Check allocates %v times per state, want 0", n)
	}
}
