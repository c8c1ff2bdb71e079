package raft

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The Node hands out its state as data; what a StateEncoder makes of it,
// DecodeState reads back, and NewNode restarts from it. What it applies
// comes out as Apply values.
func TestPersistentStateRoundTrip(t *testing.T) {
	cfg := Config{ID: 0, Peers: 1, ElectionTicks: 1, HeartbeatTicks: 1, Rand: func(int) int { return 0 }}
	n, err := NewNode(cfg, nil, nil)
	require.NoError(t, err)
	var enc StateEncoder
	var saved []byte
	var applied []Apply
	run := func() {
		for n.HasReady() {
			out := n.Ready()
			if out.Persist != nil {
				saved, err = enc.Encode(out.Persist)
				require.NoError(t, err)
			}
			applied = append(applied, out.Apply...)
			require.NoError(t, n.Advance())
		}
	}
	for !n.Status().Leader {
		require.NoError(t, n.Tick())
		run()
	}
	for c := range 3 {
		_, _, ok := n.Propose(c)
		require.True(t, ok)
		run()
	}
	require.Equal(t, []Apply{{Index: 1, Term: 1, Command: 0}, {Index: 2, Term: 1, Command: 1}, {Index: 3, Term: 1, Command: 2}}, applied)

	st, err := DecodeState(saved, 0, 1)
	require.NoError(t, err)
	require.Equal(t, 1, st.Term)
	require.Equal(t, 0, st.VotedFor)
	require.Len(t, st.Entries, 3)
	again, err := NewNode(cfg, st, nil)
	require.NoError(t, err)
	st.Entries[0].Command = "changed" // NewNode kept a copy
	require.Equal(t, 0, again.Inspect().Entries[0].Command)
	require.Equal(t, n.Status().LastIndex, again.Status().LastIndex)
}

// A state handed to NewNode directly is checked as DecodeState checks the
// bytes: refused with ErrCorruptState, never a panic.
func TestNewNodeRefusesBadState(t *testing.T) {
	cfg := Config{ID: 1, Peers: 3, ElectionTicks: 1, HeartbeatTicks: 1, Rand: func(int) int { return 0 }}
	for name, st := range map[string]*PersistentState{
		"votedFor out of the cluster": {Term: 2, VotedFor: 3},
		"negative term":               {Term: -1, VotedFor: None},
		"entry after currentTerm":     {Term: 1, VotedFor: None, Entries: []Entry{{Term: 2}}},
		"terms decrease":              {Term: 3, VotedFor: None, Base: 4, BaseTerm: 3, Entries: []Entry{{Term: 2}}},
	} {
		_, err := NewNode(cfg, st, nil)
		require.ErrorIs(t, err, ErrCorruptState, name)
		require.Contains(t, err.Error(), "n1", name)
	}
	_, err := NewNode(cfg, &PersistentState{Term: 1, VotedFor: None}, []byte("snap"))
	require.ErrorIs(t, err, ErrCorruptState, "a snapshot with no base")
}

// EncodeState refuses what DecodeState would refuse, and nil, with an
// error rather than a panic or bytes no node can restart from.
func TestEncodeStateRefusesBadStates(t *testing.T) {
	for _, st := range []*PersistentState{nil, {Term: -4, VotedFor: None}, {Term: 1, VotedFor: -7}, {Term: 1, VotedFor: None, Base: 3, BaseTerm: 2}} {
		if b, err := EncodeState(st); err == nil {
			t.Errorf("EncodeState(%+v) = %d bytes, want an error", st, len(b))
		}
	}
	if _, err := EncodeState(&PersistentState{Term: 2, VotedFor: None, Base: 3, BaseTerm: 1}); err != nil {
		t.Errorf("a good state: %v", err)
	}
}
