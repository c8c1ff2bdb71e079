//go:build invariants

package raft

import (
	"strings"
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/stretchr/testify/require"
)

// The hooks keep each transition's transcript line as values and format
// it only when a violation is reported; the lines must read as the
// transitions happened, not as the node is when the violation is found.
// coreNet drives the nodes through the Node contract, so the lines show
// each Output in its order: persist, then each send (reported by
// Advance), and what Ready applied before any of it is delivered.
func TestTranscript(t *testing.T) {
	obs := invariants.NewObserver()
	cn := newObservedNet(t, 3, obs)
	l := cn.elect(0)
	cn.ns[l.id].Propose("x")
	cn.flush()
	cn.beat(l)
	n2 := cn.nodes[2]
	require.Len(t, cn.takeApplied(2), 1)
	require.NoError(t, cn.ns[n2.id].Snapshot(1, []byte("s")))
	n2.becomeLeader() // planted: a second leader in term 1
	for range n2.cfg.HeartbeatTicks {
		cn.tick(n2.id)
	}
	v := obs.Violation()
	require.NotNil(t, v)
	require.Equal(t, invariants.ElectionSafetyName, v.Property)
	got := strings.Join(v.Trace, "\n")
	require.Equal(t, strings.TrimSpace(goldenTranscript), got)
}

const goldenTranscript = `
n0 start
n2 start
n0 election timeout → candidate term 1
n0 persist term 1 vote 0 last 0/0
n0 send RequestVote n0→n1 term 1 last 0/0
n0 send RequestVote n0→n2 term 1 last 0/0
n2 recv RequestVote n0→n2 term 1 last 0/0 → RequestVoteReply n2→n0 term 1 granted true; follower term 1 commit 0 last 0/0
n0 recv RequestVoteReply n1→n0 term 1 granted true; leader term 1 commit 0 last 0/0
n2 persist term 1 vote 0 last 0/0
n2 send RequestVoteReply n2→n0 term 1 granted true
n0 recv RequestVoteReply n2→n0 term 1 granted true; leader term 1 commit 0 last 0/0
n0 propose x at 1 term 1
n0 persist term 1 vote 0 last 1/1
n0 send AppendEntries n0→n1 term 1 prev 0/0 entries 1 commit 0
n0 send AppendEntries n0→n2 term 1 prev 0/0 entries 1 commit 0
n2 recv AppendEntries n0→n2 term 1 prev 0/0 entries 1 commit 0 → AppendEntriesReply n2→n0 term 1 ok match 1; follower term 1 commit 0 last 1/1
n0 recv AppendEntriesReply n1→n0 term 1 ok match 1; leader term 1 commit 1 last 1/1
n2 persist term 1 vote 0 last 1/1
n2 send AppendEntriesReply n2→n0 term 1 ok match 1
n0 recv AppendEntriesReply n2→n0 term 1 ok match 1; leader term 1 commit 1 last 1/1
n0 apply 1..1
n0 heartbeat
n0 send AppendEntries n0→n1 term 1 prev 1/1 entries 0 commit 1
n0 send AppendEntries n0→n2 term 1 prev 1/1 entries 0 commit 1
n2 recv AppendEntries n0→n2 term 1 prev 1/1 entries 0 commit 1 → AppendEntriesReply n2→n0 term 1 ok match 1; follower term 1 commit 1 last 1/1
n0 recv AppendEntriesReply n1→n0 term 1 ok match 1; leader term 1 commit 1 last 1/1
n2 apply 1..1
n2 send AppendEntriesReply n2→n0 term 1 ok match 1
n0 recv AppendEntriesReply n2→n0 term 1 ok match 1; leader term 1 commit 1 last 1/1
n2 compact through 1/1
n2 heartbeat
`

// Each node reports to the Observer of its own Config: a violation in one
// cluster is not seen by another's Observer, so clusters can run side by
// side (there is no process-wide Observer).
func TestObserverPerConfig(t *testing.T) {
	a, b := invariants.NewObserver(), invariants.NewObserver()
	ca, cb := newObservedNet(t, 3, a), newObservedNet(t, 3, b)
	ca.elect(0)
	cb.elect(0)
	n2 := ca.nodes[2]
	n2.becomeLeader() // planted in a only: a second leader in term 1
	for range n2.cfg.HeartbeatTicks {
		ca.tick(n2.id) // a reported transition
	}
	require.ErrorContains(t, a.Err(), invariants.ElectionSafetyName)
	require.NoError(t, b.Err())
	require.Positive(t, b.Evaluations(), "b saw its own cluster's transitions")

	_, err := NewNode(Config{ID: 0, Peers: 1, ElectionTicks: 1, HeartbeatTicks: 1, Rand: func(int) int { return 0 }, Observer: "not one"}, nil, nil)
	require.ErrorIs(t, err, ErrConfig)
}
