package invariants

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// view builds a node's View: log entries given as terms, each with the
// command "t<term>i<index>" unless cmds overrides it.
func view(id, term int, role Role, commit int, terms ...int) View {
	v := View{ID: id, Term: term, VotedFor: None, Role: role, CommitIndex: commit, LastApplied: commit}
	for k, t := range terms {
		v.Log = append(v.Log, Entry{Term: t, Command: cmd(k+1, t)})
	}
	return v
}

func cmd(i, t int) string { return "t" + itoa(t) + "i" + itoa(i) }

// compacted returns v with its entries through base moved into a snapshot.
func compacted(v View, base int) View {
	v.BaseTerm = v.Log[base-1].Term
	v.Log = append([]Entry(nil), v.Log[base:]...)
	v.Base = base
	return v
}

func requireProp(t *testing.T, want string, got *Violation) {
	t.Helper()
	require.NotNil(t, got, "want a %s violation, got none", want)
	require.Equal(t, want, got.Property, "%v", got)
	require.True(t, strings.HasPrefix(got.Error(), want+" violated"), got.Error())
}

func TestElectionSafety(t *testing.T) {
	ok := []View{view(0, 2, Leader, 0), view(1, 2, Follower, 0), view(2, 1, Leader, 0)}
	require.Nil(t, ElectionSafety(ok), "leaders of different terms")
	bad := []View{view(0, 2, Leader, 0), view(1, 2, Follower, 0), view(2, 2, Leader, 0)}
	v := ElectionSafety(bad)
	requireProp(t, ElectionSafetyName, v)
	require.Equal(t, 2, v.Term)
	require.ElementsMatch(t, []int{0, 2}, v.Nodes)
	// Reference: Figure 3; section 5.2
}

func TestLeaderAppendOnly(t *testing.T) {
	prev := view(0, 3, Leader, 1, 1, 3)
	grown := view(0, 3, Leader, 1, 1, 3, 3)
	require.Nil(t, LeaderAppendOnly(&prev, &grown))
	shrunk := view(0, 3, Leader, 1, 1)
	requireProp(t, LeaderAppendOnlyName, LeaderAppendOnly(&prev, &shrunk))
	over := view(0, 3, Leader, 1, 1, 3)
	over.Log[1].Command = "other"
	v := LeaderAppendOnly(&prev, &over)
	requireProp(t, LeaderAppendOnlyName, v)
	require.Equal(t, 2, v.Index)
	// Compaction is not deletion.
	c := compacted(grown, 2)
	require.Nil(t, LeaderAppendOnly(&prev, &c))
	// A node that stopped leading may lose entries.
	follower := view(0, 4, Follower, 1, 1)
	require.Nil(t, LeaderAppendOnly(&prev, &follower))
	// Reference: Figure 3; section 5.3
}

func TestLogMatching(t *testing.T) {
	a := view(0, 3, Follower, 0, 1, 1, 2)
	b := view(1, 3, Follower, 0, 1, 1, 3)
	require.Nil(t, LogMatching([]View{a, b}), "they differ at 3 in term: no claim")
	// Same (index, term), different command.
	c := view(2, 3, Follower, 0, 1, 1, 2)
	c.Log[2].Command = "x"
	v := LogMatching([]View{a, c})
	requireProp(t, LogMatchingName, v)
	require.Equal(t, 3, v.Index)
	// Same (3, 2), different terms before it.
	d := view(3, 3, Follower, 0, 1, 2, 2)
	d.Log[2].Command = cmd(3, 2)
	v = LogMatching([]View{a, d})
	requireProp(t, LogMatchingName, v)
	require.Contains(t, v.Found, "term 2 at 2")
	// Only what both hold is compared: a's prefix is compacted.
	ac := compacted(a, 2)
	require.Nil(t, LogMatching([]View{ac, view(4, 3, Follower, 0, 1, 1)}))
	// Reference: Figure 3; section 5.3
}

func TestLeaderCompleteness(t *testing.T) {
	committed := []Committed{{Index: 1, Entry: Entry{1, cmd(1, 1)}, InTerm: 1}, {Index: 2, Entry: Entry{2, cmd(2, 2)}, InTerm: 2}}
	good := view(0, 3, Leader, 0, 1, 2, 3)
	require.Nil(t, LeaderCompleteness(&good, committed))
	lacks := view(0, 3, Leader, 0, 1)
	v := LeaderCompleteness(&lacks, committed)
	requireProp(t, LeaderCompletenessName, v)
	require.Equal(t, 2, v.Index)
	// A leader of term 2 is not bound by what term 2 committed.
	old := view(0, 2, Leader, 0, 1)
	require.Nil(t, LeaderCompleteness(&old, committed))
	// Entries in the leader's snapshot count as held.
	c := compacted(good, 2)
	require.Nil(t, LeaderCompleteness(&c, committed))
	wrongBase := compacted(view(0, 3, Leader, 0, 1, 3), 2)
	requireProp(t, LeaderCompletenessName, LeaderCompleteness(&wrongBase, committed))
	// Reference: Figure 3; section 5.4
}

func TestStateMachineSafety(t *testing.T) {
	a := view(0, 2, Follower, 2, 1, 2)
	b := view(1, 2, Follower, 1, 1, 3)
	require.Nil(t, StateMachineSafety([]View{a, b}), "index 2 is committed only on a")
	b.CommitIndex = 2
	v := StateMachineSafety([]View{a, b})
	requireProp(t, StateMachineSafetyName, v)
	require.Equal(t, 2, v.Index)
	// Reference: Figure 3; section 5.4.3
}

func TestLocalState(t *testing.T) {
	good := view(0, 3, Follower, 2, 1, 1, 3)
	require.Nil(t, LocalState(&good))
	for name, tc := range map[string]struct {
		v    View
		want string
	}{
		"terms decrease":    {view(0, 3, Follower, 0, 1, 2, 1), LogTermsName},
		"term beyond":       {view(0, 2, Follower, 0, 1, 3), LogTermsName},
		"commit beyond log": {view(0, 2, Follower, 3, 1, 2), CommitIndexName},
		"applied beyond":    {func() View { v := view(0, 2, Follower, 1, 1, 2); v.LastApplied = 2; return v }(), LastAppliedName},
		"base beyond commit": {func() View {
			v := compacted(view(0, 2, Follower, 2, 1, 2, 2), 2)
			v.CommitIndex = 1
			v.LastApplied = 1
			return v
		}(), SnapshotMonotonicName},
		"bad vote": {func() View { v := view(0, 2, Follower, 0); v.VotedFor = -7; return v }(), VotedForStableName},
	} {
		t.Run(name, func(t *testing.T) { requireProp(t, tc.want, LocalState(&tc.v)) })
	}
}

func TestLocalStep(t *testing.T) {
	prev := view(0, 3, Follower, 2, 1, 1, 3)
	prev.VotedFor = 1
	prev = compacted(prev, 1)
	ok := prev
	ok.Term, ok.VotedFor = 4, None
	require.Nil(t, LocalStep(&prev, &ok))
	for name, tc := range map[string]struct {
		edit func(v *View)
		want string
	}{
		"term decreases":    {func(v *View) { v.Term = 2 }, TermMonotonicName},
		"vote changes":      {func(v *View) { v.VotedFor = 2 }, VotedForStableName},
		"vote cleared":      {func(v *View) { v.VotedFor = None }, VotedForStableName},
		"commit decreases":  {func(v *View) { v.CommitIndex = 1 }, CommitIndexName},
		"applied goes back": {func(v *View) { v.LastApplied = 1 }, ApplyOrderName},
		"base goes back":    {func(v *View) { v.Base, v.BaseTerm = 0, 0 }, SnapshotMonotonicName},
	} {
		t.Run(name, func(t *testing.T) {
			next := prev
			tc.edit(&next)
			requireProp(t, tc.want, LocalStep(&prev, &next))
		})
	}
}

func TestPersistBeforeSend(t *testing.T) {
	v := view(0, 3, Candidate, 0, 1, 2)
	v.VotedFor = 0
	v.Persisted = &Durable{Term: 3, VotedFor: 0, LastIndex: 2, LastTerm: 2}
	require.Nil(t, PersistBeforeSend(&v))
	v.Persisted = &Durable{Term: 3, VotedFor: None, LastIndex: 2, LastTerm: 2}
	p := PersistBeforeSend(&v)
	requireProp(t, PersistBeforeSendName, p)
	require.Contains(t, p.Found, "vote n0 log 2/2 in memory, but term 3 vote None")
	v.Persisted = nil
	require.Nil(t, PersistBeforeSend(&v), "an implementation that does not say holds")
	// Reference: Figure 2 ("updated on stable storage before responding to RPCs")
}

func TestSameCommandNeverPanics(t *testing.T) {
	require.True(t, sameCommand([]byte("a"), []byte("a")))
	require.False(t, sameCommand([]byte("a"), []byte("b")))
	require.True(t, sameCommand(map[string]int{"a": 1}, map[string]int{"a": 1}))
	type s struct{ X any }
	require.True(t, sameCommand(s{[]int{1}}, s{[]int{1}}))
	require.False(t, sameCommand(1, "1"))
	require.True(t, sameCommand(nil, nil))
}
