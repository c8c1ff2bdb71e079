package raft

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestInspect elects n0 among three Nodes, replicates a command, and
// checks that Inspect shows each node's state, and that changing the copy
// changes nothing in the node.
func TestInspect(t *testing.T) {
	var nodes []*Node
	for id := range 3 {
		n, err := NewNode(Config{ID: id, Peers: 3, ElectionTicks: 10, HeartbeatTicks: 3, Rand: func(int) int { return 0 }}, nil, nil)
		require.NoError(t, err)
		nodes = append(nodes, n)
	}
	// deliver carries out every Output until none is left.
	deliver := func() {
		for busy := true; busy; {
			busy = false
			for _, n := range nodes {
				if !n.HasReady() {
					continue
				}
				busy = true
				out := n.Ready()
				require.NoError(t, n.Advance())
				for _, m := range out.Messages {
					require.NoError(t, nodes[m.To].Step(m))
				}
			}
		}
	}
	for !nodes[0].Status().Candidate {
		require.NoError(t, nodes[0].Tick())
	}
	st := nodes[0].Inspect()
	require.True(t, st.Candidate)
	require.Equal(t, 1, st.Term)
	require.Equal(t, 0, st.VotedFor)
	require.Equal(t, []bool{true, false, false}, st.Votes)
	require.Len(t, st.Outbox, 2)
	require.Equal(t, MsgRequestVote, st.Outbox[0].Kind)
	require.Equal(t, 1, st.Outbox[0].Term)

	deliver()
	_, _, ok := nodes[0].Propose(7)
	require.True(t, ok)
	deliver()

	st = nodes[0].Inspect()
	require.Empty(t, st.Outbox)
	require.True(t, st.Leader)
	require.Equal(t, []Entry{{Term: 1, Command: 7}}, st.Entries)
	require.Equal(t, 1, st.CommitIndex)
	require.Equal(t, []int{1, 1, 1}, st.MatchIndex)
	require.Equal(t, []int{2, 2}, st.NextIndex[1:]) // its own is never used
	require.Equal(t, 3, st.Peers)

	f := nodes[1].Inspect()
	require.False(t, f.Leader || f.Candidate)
	require.Equal(t, 1, f.Term)
	require.Equal(t, 0, f.VotedFor)
	require.Equal(t, []Entry{{Term: 1, Command: 7}}, f.Entries)

	// The copy is a copy.
	st.Entries[0].Term, st.MatchIndex[1], st.Votes[2] = 9, 9, true
	again := nodes[0].Inspect()
	require.Equal(t, 1, again.Entries[0].Term)
	require.Equal(t, 1, again.MatchIndex[1])
	require.False(t, again.Votes[2])

	// The Outbox is the node's messages copied deeply: changing what a
	// message carries changes nothing in the node.
	_, _, ok = nodes[0].Propose(8)
	require.True(t, ok)
	st = nodes[0].Inspect()
	require.NotEmpty(t, st.Outbox)
	require.Len(t, st.Outbox[0].Entries, 1)
	st.Outbox[0].Entries[0].Command = "changed"
	require.Equal(t, 8, nodes[0].Inspect().Outbox[0].Entries[0].Command)
}
