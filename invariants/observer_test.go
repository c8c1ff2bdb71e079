package invariants

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// feed reports one transition of v to o; logFrom as in Event.
func feed(o *Observer, kind Kind, v View, logFrom int) {
	o.Observe(&v, Event{Kind: kind, Desc: fmt.Sprintf("n%d %v term %d %v last %d commit %d", v.ID, kind, v.Term, v.Role, v.LastIndex(), v.CommitIndex), LogFrom: logFrom})
}

// start reports a node's first transition, with its whole log new.
func start(o *Observer, v View) { feed(o, Start, v, max(v.Base, 0)+1) }

func requireObserved(t *testing.T, o *Observer, want string) *Violation {
	t.Helper()
	v := o.Violation()
	requireProp(t, want, v)
	require.Equal(t, v, o.Err())
	return v
}

func TestObserverQuietOnCorrectRun(t *testing.T) {
	o := NewObserver()
	for id := range 3 {
		start(o, view(id, 0, Follower, 0))
	}
	l := view(0, 1, Leader, 0)
	l.VotedFor = 0
	feed(o, Tick, l, 0)
	l = view(0, 1, Leader, 0, 1)
	l.VotedFor = 0
	feed(o, Propose, l, 1)
	for id := 1; id < 3; id++ {
		f := view(id, 1, Follower, 0, 1)
		f.VotedFor = 0
		feed(o, Receive, f, 1)
	}
	l.CommitIndex = 1
	feed(o, Reply, l, 0)
	l.LastApplied = 1
	feed(o, Apply, l, 0)
	o.ApplyCommand(0, 1, cmd(1, 1))
	o.ClaimsLeader(0, 1)
	require.NoError(t, o.Err())
	require.Greater(t, o.Evaluations(), int64(40))
}

func TestObserverElectionSafetyAcrossHistory(t *testing.T) {
	// n0 led term 2 and stepped down; n1 leads term 2 later. They never
	// led at once, but a term had two leaders.
	o := NewObserver()
	feed(o, Tick, view(0, 2, Leader, 0), 0)
	feed(o, Receive, view(0, 2, Follower, 0), 0)
	feed(o, Reply, view(1, 2, Leader, 0), 0)
	v := requireObserved(t, o, ElectionSafetyName)
	require.Equal(t, 2, v.Term)
	require.Contains(t, v.Trace, "n0 tick term 2 leader last 0 commit 0", "the transcript shows the first leader")

	// From claims alone (an implementation without a View).
	o = NewObserver()
	o.ClaimsLeader(3, 5)
	o.ClaimsLeader(1, 5)
	requireObserved(t, o, ElectionSafetyName)
}

func TestObserverLeaderAppendOnly(t *testing.T) {
	o := NewObserver()
	feed(o, Propose, view(0, 2, Leader, 0, 1, 2), 1)
	feed(o, Receive, view(0, 2, Leader, 0, 1), 2) // entry 2 deleted while leading
	v := requireObserved(t, o, LeaderAppendOnlyName)
	require.Equal(t, 2, v.Index)
}

func TestObserverLogMatching(t *testing.T) {
	o := NewObserver()
	start(o, view(0, 2, Follower, 0, 1, 2))
	b := view(1, 2, Follower, 0, 1, 2)
	b.Log[1].Command = "other"
	start(o, b)
	v := requireObserved(t, o, LogMatchingName)
	require.Equal(t, []int{1, 0}, v.Nodes)
	require.Equal(t, 2, v.Index)

	// Same (3, 2) after different terms at 2: only n1's changed entries
	// are compared, against the table of every (index, term) held.
	o = NewObserver()
	start(o, view(0, 2, Follower, 0, 1, 1, 2))
	c := view(1, 2, Follower, 0, 1, 2)
	start(o, c)
	c = view(1, 2, Follower, 0, 1, 2, 2)
	c.Log[2].Command = cmd(3, 2)
	feed(o, Receive, c, 3)
	requireObserved(t, o, LogMatchingName)
}

func TestObserverLeaderCompleteness(t *testing.T) {
	// Committed in term 1, then a leader of term 2 without it.
	o := NewObserver()
	feed(o, Reply, view(0, 1, Leader, 1, 1), 1)
	feed(o, Tick, view(1, 2, Leader, 0), 0)
	v := requireObserved(t, o, LeaderCompletenessName)
	require.Equal(t, 1, v.Index)

	// The other order: n1 wins term 2 without index 1, and only then does
	// n0 learn that term 1 committed it.
	o = NewObserver()
	feed(o, Propose, view(0, 1, Leader, 0, 1), 1)
	feed(o, Tick, view(1, 2, Leader, 0), 0)
	feed(o, Reply, view(0, 1, Leader, 1, 1), 0)
	v = requireObserved(t, o, LeaderCompletenessName)
	require.Contains(t, v.Found, "when it won term 2")
}

func TestObserverStateMachineSafety(t *testing.T) {
	o := NewObserver()
	feed(o, Reply, view(0, 2, Leader, 1, 2), 1)
	feed(o, Receive, view(1, 3, Follower, 1, 3), 1)
	v := requireObserved(t, o, StateMachineSafetyName)
	require.Equal(t, 1, v.Index)

	// From applies alone.
	o = NewObserver()
	o.ApplyCommand(0, 4, "a")
	o.ApplyCommand(2, 4, "b")
	v = requireObserved(t, o, StateMachineSafetyName)
	require.Equal(t, []int{2, 0}, v.Nodes)

	// A snapshot whose base contradicts what was committed.
	o = NewObserver()
	feed(o, Reply, view(0, 2, Leader, 1, 2), 1)
	o.ApplySnapshot(1, 1, 1)
	requireObserved(t, o, StateMachineSafetyName)
}

func TestObserverLocalProperties(t *testing.T) {
	withVote := func(v View, vote int) View { v.VotedFor = vote; return v }
	for name, tc := range map[string]struct {
		steps []func(o *Observer)
		want  string
	}{
		"TermMonotonic": {[]func(*Observer){
			func(o *Observer) { feed(o, Tick, view(0, 3, Candidate, 0), 0) },
			func(o *Observer) { feed(o, Receive, view(0, 2, Follower, 0), 0) },
		}, TermMonotonicName},
		"VotedForStable": {[]func(*Observer){
			func(o *Observer) { feed(o, Receive, withVote(view(0, 3, Follower, 0), 1), 0) },
			func(o *Observer) { feed(o, Receive, withVote(view(0, 3, Follower, 0), 2), 0) },
		}, VotedForStableName},
		"VotedForStable at restart": {[]func(*Observer){
			func(o *Observer) {
				v := withVote(view(0, 3, Follower, 0), 0)
				v.Persisted = &Durable{Term: 3, VotedFor: 0}
				feed(o, Persist, v, 0)
			},
			func(o *Observer) { start(o, view(0, 3, Follower, 0)) },
		}, VotedForStableName},
		"LogTerms": {[]func(*Observer){
			func(o *Observer) { start(o, view(0, 3, Follower, 0, 1, 3)) },
			func(o *Observer) { feed(o, Receive, view(0, 3, Follower, 0, 1, 3, 2), 3) },
		}, LogTermsName},
		"CommitIndex": {[]func(*Observer){
			func(o *Observer) { start(o, view(0, 1, Follower, 2, 1, 1)) },
			func(o *Observer) { feed(o, Receive, view(0, 1, Follower, 1, 1, 1), 0) },
		}, CommitIndexName},
		"ApplyOrder": {[]func(*Observer){
			func(o *Observer) { start(o, view(0, 1, Follower, 2, 1, 1)) },
			func(o *Observer) { v := view(0, 1, Follower, 2, 1, 1); v.LastApplied = 1; feed(o, Apply, v, 0) },
		}, ApplyOrderName},
		"SnapshotMonotonic": {[]func(*Observer){
			func(o *Observer) { start(o, compacted(view(0, 1, Follower, 3, 1, 1, 1), 2)) },
			func(o *Observer) { feed(o, Receive, compacted(view(0, 1, Follower, 3, 1, 1, 1), 1), 0) },
		}, SnapshotMonotonicName},
		"PersistBeforeSend": {[]func(*Observer){
			func(o *Observer) {
				v := withVote(view(0, 2, Follower, 0), 1)
				v.Persisted = &Durable{Term: 2, VotedFor: None}
				feed(o, Send, v, 0)
			},
		}, PersistBeforeSendName},
	} {
		t.Run(name, func(t *testing.T) {
			o := NewObserver()
			for _, step := range tc.steps {
				step(o)
			}
			requireObserved(t, o, tc.want)
		})
	}
}

func TestObserverTraceIsBoundedAndOrdered(t *testing.T) {
	o := NewObserver()
	for i := range 50 {
		feed(o, Tick, view(0, i+1, Candidate, 0), 0)
		feed(o, Tick, view(1, i+1, Follower, 0), 0)
	}
	feed(o, Tick, view(0, 1, Follower, 0), 0) // term goes back
	v := requireObserved(t, o, TermMonotonicName)
	require.Len(t, v.Trace, TraceLen, "only n0's last transitions")
	require.Equal(t, "n0 tick term 1 follower last 0 commit 0", v.Trace[TraceLen-1])
	require.Equal(t, "n0 tick term 32 candidate last 0 commit 0", v.Trace[0])
	require.Contains(t, v.Error(), "\n\tn0 tick term 1 follower")
}

// A View may hold garbage (a student's, or one past a violation): the
// Observer reports it and stops, instead of walking to a commitIndex of
// 2^40.
func TestObserverStopsAtGarbage(t *testing.T) {
	o := NewObserver()
	start(o, view(0, 1, Follower, 0, 1))
	v := view(0, 1, Follower, 0, 1)
	v.CommitIndex, v.LastApplied = 1<<40, 1<<40
	feed(o, Receive, v, 0)
	requireObserved(t, o, CommitIndexName)
	require.LessOrEqual(t, len(o.committed), 1, "nothing recorded past the garbage")
	// Checking has stopped; later reports cost nothing and change nothing.
	before := o.Evaluations()
	feed(o, Tick, view(1, 9, Leader, 0), 0)
	require.Equal(t, before, o.Evaluations())
	requireObserved(t, o, CommitIndexName)
}

func TestObserverRestartKeepsTerm(t *testing.T) {
	o := NewObserver()
	v := view(0, 5, Follower, 0)
	v.Persisted = &Durable{Term: 5, VotedFor: None}
	feed(o, Persist, v, 0)
	start(o, view(0, 3, Follower, 0)) // restarted from an older state
	x := requireObserved(t, o, TermMonotonicName)
	require.Contains(t, x.Found, "restarted in term 3 after persisting term 5")
}

// persisted reports that node id saved term (with no vote).
func persisted(o *Observer, id, term int) {
	v := view(id, term, Follower, 0)
	v.Persisted = &Durable{Term: term, VotedFor: None}
	feed(o, Persist, v, 0)
}

// A save the dead incarnation makes after the crash point lands in storage
// nobody reads: the restart is not expected to keep it. One made before is.
func TestObserverCrashPoint(t *testing.T) {
	o := NewObserver()
	persisted(o, 0, 9)
	o.Crash(0)
	persisted(o, 0, 10)                      // the old incarnation, before Kill stopped it
	feed(o, Send, view(0, 11, Leader, 0), 0) // nothing it does is believed
	start(o, view(0, 9, Follower, 0))
	require.NoError(t, o.Err())

	// The new incarnation is checked as usual, and its saves are believed.
	persisted(o, 0, 12)
	feed(o, Tick, view(0, 11, Follower, 0), 0)
	requireObserved(t, o, TermMonotonicName)

	// A save before the crash point that the restart lost is caught,
	// whatever the dead incarnation did after it.
	o = NewObserver()
	persisted(o, 0, 9)
	o.Crash(0)
	persisted(o, 0, 10)
	start(o, view(0, 8, Follower, 0))
	x := requireObserved(t, o, TermMonotonicName)
	require.Contains(t, x.Found, "restarted in term 8 after persisting term 9")
	require.Equal(t, []string{
		"n0 persist term 9 follower last 0 commit 0",
		"n0 crashed (seen by the harness)",
		"n0 persist term 10 follower last 0 commit 0 [after n0 crashed: not believed]",
		"n0 start term 8 follower last 0 commit 0",
	}, x.Trace, "the transcript shows the crash point and what came after it")
}

// A Note is formatted only for the transcript of a violation, and shows
// the values of its own transition, not of a later one.
func TestNoteFormattedOnlyOnViolation(t *testing.T) {
	formats := 0
	format := func(b []byte, n *Note) []byte {
		formats++
		return fmt.Appendf(b, "n%d term %d %v", n.Ints[0], n.Ints[1], n.Value)
	}
	o := NewObserver()
	note := func(v View, what string) Event {
		ev := Event{Kind: Tick, Note: Note{Format: format, Value: what}}
		ev.Note.Ints[0], ev.Note.Ints[1] = v.ID, v.Term
		return ev
	}
	for term := 1; term <= 50; term++ {
		v := view(0, term, Leader, 0)
		o.Observe(&v, note(v, "leads"))
	}
	require.Zero(t, formats, "no violation, nothing formatted")
	v := view(1, 50, Leader, 0)
	o.Observe(&v, note(v, "also leads"))
	viol := requireObserved(t, o, ElectionSafetyName)
	require.Equal(t, TraceLen+1, formats, "the lines shown, once each")
	require.Equal(t, "n0 term 31 leads", viol.Trace[0])
	require.Equal(t, "n1 term 50 also leads", viol.Trace[len(viol.Trace)-1])
}
