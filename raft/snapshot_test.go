package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// Snapshots and log compaction (§7) in the core: the log helpers against a
// plain twin, Snapshot from the service, InstallSnapshot on a follower,
// restart from a snapshot. The seeded simulation, in which the service runs
// behind the core as it does under the driver, is the deterministic simulator
// (tests/sim).

// ---- The log helpers ----

// plainLog is the simple twin of raftLog: every entry ever kept, and how
// many of them a snapshot covers. No index arithmetic to get wrong.
type plainLog struct {
	terms []int // terms[i] is the term at index i; terms[0] = 0
	base  int
}

func (p *plainLog) term(i int) (int, bool) {
	if i < p.base || i >= len(p.terms) {
		return 0, false
	}
	return p.terms[i], true
}

// TestRaftLogAgainstPlainTwin applies random appends, truncations,
// compactions and snapshot installs to a raftLog and to plainLog, and
// compares every index after each (raft-bugs.md M21: off-by-ones after
// compaction).
func TestRaftLogAgainstPlainTwin(t *testing.T) {
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 0))
		var l raftLog
		p := &plainLog{terms: []int{0}}
		term := 1
		for step := range 200 {
			last := len(p.terms) - 1
			what := ""
			switch k := rng.IntN(10); {
			case k < 4:
				n := rng.IntN(4)
				es := make([]Entry, n)
				for j := range es {
					es[j] = Entry{Term: term}
					p.terms = append(p.terms, term)
				}
				l.append(es...)
				what = fmt.Sprintf("append %d of term %d", n, term)
			case k < 5:
				term++
				what = "new term"
			case k < 6 && last > p.base:
				i := p.base + 1 + rng.IntN(last-p.base)
				l.truncate(i)
				p.terms = p.terms[:i]
				what = fmt.Sprintf("truncate %d", i)
			case k < 8 && last > p.base:
				i := p.base + 1 + rng.IntN(last-p.base)
				l.compact(i)
				p.base = i
				what = fmt.Sprintf("compact %d", i)
			case k < 10:
				// A snapshot through i of term ti: matching an entry
				// held, or not.
				i := p.base + 1 + rng.IntN(last-p.base+3)
				ti, ok := p.term(i)
				if !ok || rng.IntN(3) == 0 {
					ti = term + 1
					term++
				}
				l.restoreBase(i, ti)
				if pt, ok := p.term(i); ok && pt == ti {
					p.base = i
				} else {
					p.terms = append(make([]int, i), ti)
					p.base = i
				}
				what = fmt.Sprintf("restoreBase %d/%d", i, ti)
			}
			where := fmt.Sprintf("seed %d step %d (%s)", seed, step, what)
			require.Equal(t, p.base, l.base, where)
			require.Equal(t, len(p.terms)-1, l.lastIndex(), where)
			for i := range len(p.terms) + 2 {
				pt, pok := p.term(i)
				if lt, lok := l.term(i); pt != lt || pok != lok {
					t.Fatalf("%s: term(%d) = %d, %v, want %d, %v", where, i, lt, lok, pt, pok)
				}
			}
			wantLastTerm, _ := p.term(len(p.terms) - 1)
			require.Equal(t, wantLastTerm, l.lastTerm(), where)
			if i := p.base + 1; i <= l.lastIndex() {
				require.Len(t, l.from(i), l.lastIndex()-p.base, where)
			}
		}
	}
}

// Compaction copies what it keeps: the discarded entries are not
// reachable from the log any more, so they can be collected (M21).
func TestCompactReleasesEntries(t *testing.T) {
	var l raftLog
	for i := range 100 {
		l.append(Entry{Term: 1, Command: i})
	}
	l.compact(95)
	require.Equal(t, 5, len(l.entries))
	require.Equal(t, 5, cap(l.entries), "the old backing array, holding 95 compacted entries, must not be kept")
	require.Equal(t, 95, l.at(96).Command)
}

// ---- Snapshot, from the service ----

// committed makes a 3-node net whose leader n0 committed the commands
// 1..n on every node, and every node's Outputs handed them to its service
// (taken: the net's record of applies is empty).
func committed(t *testing.T, n int) *coreNet {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	for i := 1; i <= n; i++ {
		cn.ns[l.id].Propose(i)
		cn.flush()
	}
	cn.tick(l.id) // heartbeats carry the last commitIndex
	for range l.cfg.HeartbeatTicks {
		cn.tick(l.id)
	}
	cn.flush()
	for _, r := range cn.nodes {
		require.Equal(t, n, r.commitIndex, "n%d", r.id)
		var want []Apply
		for i := 1; i <= n; i++ {
			want = append(want, Apply{Command: i, Index: i, Term: 1})
		}
		require.Equal(t, want, cn.takeApplied(r.id), "n%d applies 1..%d in order", r.id, n)
	}
	return cn
}

func TestSnapshotCompactsLog(t *testing.T) {
	cn := committed(t, 20)
	r := cn.nodes[1]
	r.Ready()
	require.NoError(t, r.Snapshot(15, []byte("through 15")))
	require.Equal(t, 15, r.log.base)
	require.Equal(t, 1, r.log.baseTerm)
	require.Equal(t, 20, r.log.lastIndex(), "entries after the snapshot stay")
	require.Equal(t, 16, r.log.at(16).Command)
	_, ok := r.log.term(14)
	require.False(t, ok, "index 14 is compacted away")
	require.True(t, r.Ready().MustPersist, "the base and the snapshot must be saved")
	st, err := decodeState(r.encodeState(), 1, 3)
	require.NoError(t, err)
	require.Equal(t, 15, st.Base)
	require.Len(t, st.Entries, 5)

	// Stale: at or below the base, ignored.
	require.NoError(t, r.Snapshot(10, []byte("through 10")))
	require.NoError(t, r.Snapshot(15, []byte("again")))
	require.Equal(t, []byte("through 15"), r.snapshot)
	require.False(t, r.Ready().MustPersist)

	// Beyond what the service was handed: refused.
	r.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: 20, PrevLogTerm: 1,
		Entries: []Entry{{Term: 1, Command: 21}}, LeaderCommit: 21})
	require.Equal(t, 21, r.commitIndex)
	require.ErrorIs(t, r.Snapshot(21, nil), ErrSnapshotIndex, "21 is committed but not yet applied")
	require.Equal(t, 15, r.log.base)
	// Reference: section 7
}

// The leader compacts too, and sends its snapshot to a follower whose next
// entry it no longer holds; the follower hands the snapshot to its
// service, then the entries after it.
func TestInstallSnapshotCatchesUpLaggingFollower(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	f := cn.nodes[2]
	cn.cut[2] = true
	for i := 1; i <= 25; i++ {
		cn.ns[l.id].Propose(i)
		cn.flush()
	}
	for _, r := range cn.nodes[:2] {
		cn.tick(r.id)
		for range l.cfg.HeartbeatTicks {
			cn.tick(l.id)
		}
		cn.flush()
		require.Len(t, cn.takeApplied(r.id), 25, "n%d's service has 1..25", r.id)
		require.NoError(t, cn.ns[r.id].Snapshot(20, []byte("service state through 20")))
	}
	require.Equal(t, 0, f.log.lastIndex())
	cn.cut[2] = false
	for range l.cfg.HeartbeatTicks {
		cn.tick(l.id)
	}
	cn.flush()
	require.Equal(t, 20, f.log.base, "installed the leader's snapshot")
	require.Equal(t, 25, f.log.lastIndex(), "and got the entries after it")
	require.Equal(t, 25, l.matchIndex[2])

	// What f's Outputs handed to its service, in order: the snapshot
	// alone first, then the entries after it, from base+1.
	want := []Apply{{IsSnapshot: true, Snapshot: []byte("service state through 20"), Term: 1, Index: 20}}
	for i := 21; i <= 25; i++ {
		want = append(want, Apply{Command: i, Index: i, Term: 1})
	}
	require.Equal(t, want, cn.takeApplied(2))
	require.Equal(t, 25, f.lastApplied)
	require.False(t, f.hasApply())
	// Reference: section 7
}

// A snapshot that covers no more than the follower's commitIndex is stale:
// nothing changes, not even the log after it, and the reply still says the
// follower matches through it.
func TestInstallSnapshotStale(t *testing.T) {
	cn := committed(t, 20)
	f := cn.nodes[1]
	f.Ready()
	before := slices.Clone(f.log.entries)
	for _, idx := range []int{10, 20} {
		require.NoError(t, f.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 1,
			LastIncludedIndex: idx, LastIncludedTerm: 1, Data: []byte("old")}))
		rd := f.Ready()
		require.False(t, rd.MustPersist)
		require.Len(t, rd.Messages, 1)
		require.Equal(t, idx, rd.Messages[0].MatchIndex)
		require.Equal(t, 0, f.log.base)
		require.Equal(t, before, f.log.entries)
		require.Equal(t, 20, f.commitIndex)
		require.False(t, f.hasApply())
	}
	// Reference: section 7 ("discard ... a snapshot older than")
}

// A newer snapshot keeps the entries after its last one if the log holds
// that entry with the same term (§7), and otherwise discards the log.
// commitIndex and lastApplied never move backwards (M19).
func TestInstallSnapshotSuffix(t *testing.T) {
	for _, tc := range []struct {
		name            string
		terms           []int // the follower's log
		commit          int
		index, term     int // the snapshot
		wantLast        int
		wantKeptCommand any // command at wantLast, if kept
	}{
		{name: "matching entry: keep what follows", terms: []int{1, 1, 1, 2, 2, 2, 2}, commit: 2, index: 5, term: 2, wantLast: 7, wantKeptCommand: 7},
		{name: "term differs: discard the log", terms: []int{1, 1, 1, 2, 2, 2, 2}, commit: 2, index: 5, term: 3, wantLast: 5},
		{name: "beyond the log: discard it", terms: []int{1, 1, 1}, commit: 2, index: 9, term: 2, wantLast: 9},
		{name: "at the last entry", terms: []int{1, 1, 1}, commit: 1, index: 3, term: 1, wantLast: 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newCoreNet(t, 3).nodes[1]
			f.currentTerm = 3
			for i, tm := range tc.terms {
				f.log.append(Entry{Term: tm, Command: i + 1})
			}
			f.commitIndex = tc.commit
			require.Len(t, f.nextApply(), tc.commit)
			require.NoError(t, f.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 3,
				LastIncludedIndex: tc.index, LastIncludedTerm: tc.term, Data: []byte("snap")}))
			rd := f.Ready()
			require.True(t, rd.MustPersist, "the snapshot is saved before the reply")
			require.Equal(t, tc.index, rd.Messages[0].MatchIndex)
			require.Equal(t, tc.index, f.log.base)
			require.Equal(t, tc.term, f.log.baseTerm)
			require.Equal(t, tc.wantLast, f.log.lastIndex())
			if tc.wantKeptCommand != nil {
				require.Equal(t, tc.wantKeptCommand, f.log.at(tc.wantLast).Command)
			}
			require.Equal(t, tc.index, f.commitIndex)
			msgs := f.nextApply()
			require.Len(t, msgs, 1)
			require.True(t, msgs[0].IsSnapshot)
			require.Equal(t, tc.index, msgs[0].Index)
			require.Equal(t, tc.index, f.lastApplied)
		})
	}
	// Reference: section 7, InstallSnapshot receiver implementation, steps 6-7
}

// The driver's applier takes a batch the Node handed out (Output.Apply,
// from nextApply) and sends it without the lock; meanwhile an
// InstallSnapshot may arrive. A snapshot no newer than the batch is stale;
// a newer one is handed out after the batch, never inside or before it,
// and the service's own Snapshot calls for indices of the batch are then
// harmlessly stale (M19). After committed, f's inputs go through its Node
// one at a time, each Output advanced, as the driver does.
func TestInstallSnapshotWhileApplying(t *testing.T) {
	cn := committed(t, 20)
	f, fn := cn.nodes[1], cn.ns[1]
	l := cn.nodes[0]
	for i := 21; i <= 30; i++ {
		cn.ns[l.id].Propose(i)
	}
	cn.cut[1] = true // f misses 21..30 for now
	cn.flush()
	advance := func() Output {
		t.Helper()
		out := fn.Ready()
		require.NoError(t, fn.Advance())
		return out
	}
	require.NoError(t, fn.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: 20, PrevLogTerm: 1,
		Entries: []Entry{{Term: 1, Command: 21}, {Term: 1, Command: 22}}, LeaderCommit: 22}))
	batch := advance().Apply // the applier now sends 21, 22 without the lock
	require.Equal(t, []Apply{{Command: 21, Index: 21, Term: 1}, {Command: 22, Index: 22, Term: 1}}, batch)

	// A stale snapshot (through 22, as applied) changes nothing.
	require.NoError(t, fn.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 1, LastIncludedIndex: 22, LastIncludedTerm: 1, Data: []byte("22")}))
	require.False(t, f.hasApply())
	require.Empty(t, advance().Apply)
	// A newer one (through 28) waits for the batch to be sent.
	require.NoError(t, fn.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 1, LastIncludedIndex: 28, LastIncludedTerm: 1, Data: []byte("28")}))
	require.True(t, f.hasApply())
	// The service, still at 21, snapshots: stale now, and harmless.
	require.NoError(t, fn.Snapshot(21, []byte("21")))
	require.Equal(t, 28, f.log.base)
	require.Equal(t, []byte("28"), f.snapshot)

	require.Equal(t, []Apply{{IsSnapshot: true, Snapshot: []byte("28"), Term: 1, Index: 28}}, advance().Apply,
		"the snapshot alone, after the batch: nothing after 28 is committed here yet")
	require.False(t, fn.HasReady())
	// Reference: section 7
}

// A follower whose snapshot is ahead of the leader's prevLogIndex (it got
// a snapshot, then a delayed AppendEntries) skips the entries the
// snapshot covers and checks the rest.
func TestAppendEntriesBelowBase(t *testing.T) {
	cn := committed(t, 10)
	f := cn.nodes[1]
	f.Ready()
	require.NoError(t, f.Snapshot(8, nil))
	f.Ready()
	es := []Entry{{Term: 1, Command: 6}, {Term: 1, Command: 7}, {Term: 1, Command: 8}, {Term: 1, Command: 9}, {Term: 1, Command: 10}, {Term: 1, Command: 11}}
	require.NoError(t, f.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: 5, PrevLogTerm: 1, Entries: es, LeaderCommit: 11}))
	rd := f.Ready()
	require.True(t, rd.Messages[0].Success)
	require.Equal(t, 11, rd.Messages[0].MatchIndex)
	require.Equal(t, 11, f.log.lastIndex())
	require.Equal(t, 11, f.commitIndex)
	// Entirely below the base: success, nothing changes.
	require.NoError(t, f.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: 2, PrevLogTerm: 1, Entries: es[:2], LeaderCommit: 4}))
	rd = f.Ready()
	require.True(t, rd.Messages[0].Success)
	require.Equal(t, 11, f.log.lastIndex())
	require.Equal(t, 11, f.commitIndex)
	// Reference: section 7
}

// An InstallSnapshot whose last included term is beyond the sender's
// term, or whose index and term disagree on being the empty prefix, cannot
// come from a correct leader: refused as malformed, nothing changes.
func TestInstallSnapshotMalformed(t *testing.T) {
	f := newCoreNet(t, 3).nodes[1]
	for _, m := range []Message{
		{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 2, LastIncludedIndex: 5, LastIncludedTerm: 3},
		{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 2, LastIncludedIndex: 5, LastIncludedTerm: 0},
		{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 2, LastIncludedIndex: 0, LastIncludedTerm: 1},
	} {
		require.ErrorContains(t, f.Step(m), "malformed InstallSnapshot", "%v", m)
		require.Empty(t, f.Ready().Messages)
		require.Equal(t, 0, f.currentTerm, "%v", m)
		require.Equal(t, 0, f.log.base, "%v", m)
		require.Equal(t, 0, f.commitIndex, "%v", m)
		require.False(t, f.hasApply(), "%v", m)
	}
	// An index beyond MaxTermOrIndex is refused: the node could not read
	// back a state that held it. The largest one is the leader's word.
	require.ErrorContains(t, f.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 2, LastIncludedIndex: 1 << 40, LastIncludedTerm: 2}), "beyond")
	require.NoError(t, f.Step(Message{Kind: MsgInstallSnapshot, From: 0, To: 1, Term: 2, LastIncludedIndex: MaxTermOrIndex, LastIncludedTerm: 2}))
	require.Equal(t, MaxTermOrIndex, f.log.lastIndex())
	st, err := decodeState(f.encodeState(), 1, 3)
	require.NoError(t, err, "what the node accepted, it can read back")
	require.Equal(t, MaxTermOrIndex, st.Base)
}

// ---- Restart ----

// A node restarted from a snapshot starts with commitIndex and lastApplied
// at its base: the service loads the snapshot itself, and Raft applies
// from base+1. It keeps the snapshot it read, so the next save carries it
// (SnapshotInit3D; raft-bugs.md M20).
func TestRestartFromSnapshot(t *testing.T) {
	cn := committed(t, 20)
	r := cn.nodes[0]
	require.NoError(t, cn.ns[0].Snapshot(15, []byte("through 15")))
	cn.flush() // the Output saves state and snapshot together
	saved := cn.saved[0]
	require.Equal(t, []byte("through 15"), saved.snapshot)
	state := saved.state

	st, err := DecodeState(saved.state, 0, 3)
	require.NoError(t, err)
	n2, err := NewNode(r.cfg, st, saved.snapshot)
	require.NoError(t, err)
	r2 := n2.c
	require.Equal(t, 15, r2.commitIndex)
	require.Equal(t, 15, r2.lastApplied)
	require.False(t, n2.HasReady())
	require.Empty(t, n2.Ready().Apply, "the service has the snapshot already")
	require.NoError(t, n2.Advance())
	require.Equal(t, 20, r2.log.lastIndex())

	// The driver: state and snapshot saved together, and the snapshot read
	// at start is saved again with the next state.
	p := &memPersister{state: state, snapshot: []byte("through 15")}
	rf, err := New(make([]raftPeer, 3), 0, p, make(chan raftapiApplyMsg))
	require.NoError(t, err)
	defer rf.Kill()
	var reply RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 9, CandidateId: 1, LastLogIndex: 20, LastLogTerm: 1}, &reply)
	require.True(t, reply.VoteGranted)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	require.Equal(t, []byte("through 15"), p.snapshot)
	st, err = DecodeState(p.state, 0, 3)
	require.NoError(t, err)
	require.Equal(t, 9, st.Term)
	require.Equal(t, 15, st.Base)
	// Reference: section 7
}
