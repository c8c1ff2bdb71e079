package raft

import (
	"cmp"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftspec/raftspec/raftapi"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deadPeer is a peer no call reaches.
type deadPeer struct{}

func (deadPeer) Call(string, any, any) bool { return false }

// recordingPeer records the term of every request sent to it, and lets
// none through.
type recordingPeer struct {
	mu    *sync.Mutex
	terms *[]int
}

func (p recordingPeer) Call(method string, args, reply any) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if a, ok := args.(*RequestVoteArgs); ok {
		*p.terms = append(*p.terms, a.Term)
	}
	return false
}

// A request carries the term it was made in, even if the node has moved
// to a later term by the time the goroutine that sends it runs. The lab's
// locking rule 5: arguments built from state read after the lock was
// released and taken again can speak for a term the request was never
// made in (raft-bugs.md M12).
func TestRequestKeepsItsTerm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var terms []int
		peers := []raftapi.Peer{deadPeer{}, recordingPeer{&mu, &terms}, recordingPeer{&mu, &terms}}
		rf, err := New(peers, 0, &memPersister{}, make(chan raftapi.ApplyMsg))
		require.NoError(t, err)
		defer rf.Kill()
		rf.mu.Lock()
		for !rf.n.Status().Candidate {
			require.NoError(t, rf.n.Tick())
		}
		rf.ready() // the RequestVotes of term 1 go to goroutines, which wait for the lock
		require.NoError(t, rf.n.Step(Message{Kind: MsgAppendEntries, From: 2, To: 0, Term: 2}))
		rf.ready()
		rf.mu.Unlock()
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		require.Equal(t, []int{1, 1}, terms, "the terms of the RequestVotes made in term 1")
	})
	// Reference: section 5.1; the lab's locking rules (rule 5)
}

// followerWithFive starts peer 1 of 3 with no peer reachable, and has it
// accept entries 1..5 (term 1), committed, from peer 0.
func followerWithFive(t *testing.T, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) *Raft {
	t.Helper()
	rf, err := New([]raftapi.Peer{deadPeer{}, deadPeer{}, deadPeer{}}, 1, p, applyCh)
	require.NoError(t, err)
	var entries []Entry
	for i := 1; i <= 5; i++ {
		entries = append(entries, Entry{Term: 1, Command: i})
	}
	var ar AppendEntriesReply
	rf.AppendEntries(&AppendEntriesArgs{Term: 1, LeaderId: 0, Entries: entries, LeaderCommit: 5}, &ar)
	require.True(t, ar.Success)
	return rf
}

// The snapshot/apply race, played on the driver: its applier takes a batch
// of committed entries and sends it without the lock; an InstallSnapshot
// moves the log's base past the batch while the first entry waits to be
// received. The batch must still arrive whole and in order, and the
// snapshot after it (§7; raft-bugs.md M19). An applier that reads the
// entries from the log again as it sends them finds them gone. The lab's
// SnapshotBasic3D catches that in most real-time runs; the scenarios in
// virtual time never bring an InstallSnapshot to a follower with a batch
// in flight (the reference leader sends one only to a follower whose log
// is behind its base), so this test fixes the interleaving instead.
func TestInstallSnapshotDuringApplyBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		applyCh := make(chan raftapi.ApplyMsg)
		rf := followerWithFive(t, &memPersister{}, applyCh)
		defer rf.Kill()
		synctest.Wait() // the applier has taken 1..5 and waits to hand over 1

		var sr InstallSnapshotReply
		rf.InstallSnapshot(&InstallSnapshotArgs{Term: 1, LeaderId: 0, LastIncludedIndex: 8, LastIncludedTerm: 1, Data: []byte("8")}, &sr)
		require.Equal(t, 1, sr.Term)
		for i := 1; i <= 5; i++ {
			m := <-applyCh
			require.True(t, m.CommandValid, "message %d: %+v", i, m)
			require.Equal(t, i, m.CommandIndex)
			require.Equal(t, i, m.Command)
		}
		m := <-applyCh
		require.True(t, m.SnapshotValid, "after the batch: %+v", m)
		require.Equal(t, 8, m.SnapshotIndex)
	})
	// Reference: section 7
}

// checkingPersister checks that every Save writes a Raft state and a
// snapshot that belong together: the snapshot (here, its index in decimal)
// reaches exactly the base of the log saved with it.
type checkingPersister struct {
	memPersister
	t *testing.T
}

func (p *checkingPersister) Save(state, snapshot []byte) {
	// Save runs on the driver's goroutines: assert, not require.
	st, err := decodeState(state, 1, 3)
	assert.NoError(p.t, err)
	assert.Equal(p.t, fmt.Sprint(st.Base), cmp.Or(string(snapshot), "0"),
		"a save whose snapshot does not reach the log's base %d: a crash now restarts from a state and a snapshot that disagree", st.Base)
	p.memPersister.Save(state, snapshot)
}

// The Raft state and the snapshot are saved together, in one Save, both
// when the service takes a snapshot and when one arrives by
// InstallSnapshot: a crash between two separate writes would restart a
// node whose log base its snapshot does not reach (§7; raft-bugs.md M20).
func TestSnapshotSavedWithState(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		applyCh := make(chan raftapi.ApplyMsg)
		rf := followerWithFive(t, &checkingPersister{t: t}, applyCh)
		defer rf.Kill()
		for range 5 {
			<-applyCh
		}
		rf.Snapshot(3, []byte("3"))
		var sr InstallSnapshotReply
		rf.InstallSnapshot(&InstallSnapshotArgs{Term: 1, LeaderId: 0, LastIncludedIndex: 8, LastIncludedTerm: 1, Data: []byte("8")}, &sr)
		m := <-applyCh
		require.Equal(t, 8, m.SnapshotIndex)
	})
	// Reference: section 7
}

// savePersister takes a while to save, as a disk does; its peers check,
// at each Call, that the request's term and vote are already saved.
type savePersister struct {
	mu sync.Mutex
	memPersister
	calls int
	bad   []string // requests that left before what they depend on was saved
}

func (p *savePersister) Save(state, snapshot []byte) {
	time.Sleep(10 * time.Millisecond) // the driver's other goroutines run meanwhile
	p.mu.Lock()
	defer p.mu.Unlock()
	p.memPersister.Save(state, snapshot)
}

// savedPeer is a peer that checks each RequestVote from candidate 0
// against what 0's persister holds. It answers none until release is
// closed, so that no sender waits for the driver's lock while a Save
// sleeps (a goroutine waiting for a mutex would stop synctest's clock).
type savedPeer struct {
	p       *savePersister
	release chan struct{}
}

func (sp savedPeer) Call(method string, args, reply any) bool {
	if a, ok := args.(*RequestVoteArgs); ok {
		sp.p.mu.Lock()
		sp.p.calls++
		st, err := decodeState(sp.p.state, 0, 3)
		if err != nil || st.Term < a.Term || st.VotedFor != a.CandidateId {
			sp.p.bad = append(sp.p.bad, fmt.Sprintf("RequestVote of term %d with term %d vote %d saved", a.Term, st.Term, st.VotedFor))
		}
		sp.p.mu.Unlock()
	}
	<-sp.release
	return false
}

// A request leaves only once the state it depends on is saved: the
// candidate's new term and its vote for itself (Figure 2: persistent
// state is updated on stable storage before responding to RPCs; the
// Output of a Node is saved, then sent). A driver that sends first lets a
// vote outlive a crash that forgets it (raft-bugs.md M14). The Node
// cannot see the order its Output was carried out in, so this test
// watches the driver: each Save takes time, and each RequestVote is
// checked against what is saved when it arrives.
func TestStateSavedBeforeSend(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p := &savePersister{}
		release := make(chan struct{})
		peers := []raftapi.Peer{deadPeer{}, savedPeer{p, release}, savedPeer{p, release}}
		rf, err := New(peers, 0, p, make(chan raftapi.ApplyMsg))
		require.NoError(t, err)
		time.Sleep(3 * time.Second) // a few elections
		rf.Kill()
		close(release)
		synctest.Wait()
		p.mu.Lock()
		defer p.mu.Unlock()
		require.Empty(t, p.bad, "requests that left before their state was saved")
		require.NotZero(t, p.calls, "RequestVotes sent")
		require.NoError(t, rf.Err(), "the peer ran without an error of its own")
	})
	// Reference: Figure 2 (Rules for All Servers: stable storage)
}

// Propose refuses a command gob cannot encode (it could never be
// persisted), and takes the next one: the encoder that checks commands is
// kept across calls, and not after it failed.
func TestProposeRefusesWhatGobCannotEncode(t *testing.T) {
	n, err := NewNode(Config{ID: 0, Peers: 1, ElectionTicks: 3, HeartbeatTicks: 1, Rand: func(int) int { return 0 }}, nil, nil)
	require.NoError(t, err)
	for i := 0; !n.Status().Leader; i++ {
		require.Less(t, i, 100, "a single node elects itself")
		require.NoError(t, n.Tick())
		if n.HasReady() {
			n.Ready()
			require.NoError(t, n.Advance())
		}
	}
	type unregistered struct{ X int }
	for _, cmd := range []any{func() {}, unregistered{1}, 7, unregistered{2}, "eight"} {
		_, _, ok := n.Propose(cmd)
		switch cmd.(type) {
		case int, string:
			require.True(t, ok, "Propose(%v)", cmd)
		default:
			require.False(t, ok, "Propose(%#v)", cmd)
		}
	}
	require.Equal(t, 2, n.Status().LastIndex, "the two commands gob encodes")
}
