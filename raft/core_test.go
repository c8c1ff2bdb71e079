package raft

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/raftspec/raftspec/invariants"
)

// coreNet delivers the messages of a few cores synchronously, in order,
// with no goroutines: the smallest deterministic simulator. It drives each
// core through its Node, as the driver and tests/sim do: flush takes each
// Output, keeps what it persisted, collects what it applied, Advances
// (which checks persist-before-send) and only then delivers the messages.
// nodes are the cores themselves, for the tests to look inside and to
// plant state.
type coreNet struct {
	fatal   func(error)
	nodes   []*node
	ns      []*Node        // ns[i] wraps nodes[i]: the contract flush drives
	enc     []StateEncoder // one per node, as the driver keeps one per Node
	saved   []savedState   // what each node's Outputs last persisted, encoded
	applied [][]Apply      // what each node's Outputs handed to the service, not yet taken
	cut     map[int]bool   // nodes whose messages are dropped
	sent    int
	to      map[int]int // requests sent to each node
}

// savedState is a node's stable storage: the encoded Persist and the
// Snapshot of the last Output that persisted, what a restart decodes.
type savedState struct{ state, snapshot []byte }

func newCoreNet(t *testing.T, n int) *coreNet { return newObservedNet(t, n, nil) }

// newObservedNet is newCoreNet with nodes that report to obs (with -tags
// invariants).
func newObservedNet(t *testing.T, n int, obs *invariants.Observer) *coreNet {
	cn := &coreNet{cut: map[int]bool{}, to: map[int]int{},
		enc: make([]StateEncoder, n), saved: make([]savedState, n), applied: make([][]Apply, n)}
	if t != nil {
		cn.fatal = func(err error) { t.Helper(); t.Fatal(err) }
	}
	for i := range n {
		r := newNode(Config{ID: i, Peers: n, ElectionTicks: 10, HeartbeatTicks: 3,
			Rand: func(int) int { return i }, Observer: obs}, persistentState{VotedFor: None}, nil)
		cn.nodes = append(cn.nodes, r)
		cn.ns = append(cn.ns, &Node{c: r})
	}
	return cn
}

// flush delivers messages until none are left, through the Node contract:
// for each node with output, Ready; save State and Snapshot; Advance,
// which fails if a message depends on state the Output did not persist;
// then send the messages (a cut node's are lost), each to the
// destination's Node.Step. What the Outputs apply is kept for takeApplied.
func (cn *coreNet) flush() {
	for progress := true; progress; {
		progress = false
		for id, n := range cn.ns {
			if !n.HasReady() {
				continue
			}
			out := n.Ready()
			if out.Persist != nil {
				b, err := cn.enc[id].Encode(out.Persist)
				if err != nil {
					cn.fatal(err)
				}
				cn.saved[id] = savedState{b, out.Snapshot}
			}
			if len(cn.applied[id]) == 0 {
				cn.applied[id] = out.Apply // each Output's Apply is its own
			} else {
				cn.applied[id] = append(cn.applied[id], out.Apply...)
			}
			if err := n.Advance(); err != nil {
				cn.fatal(err)
			}
			for _, m := range out.Messages {
				progress = true
				cn.sent++
				if !m.Kind.isReply() {
					cn.to[m.To]++
				}
				if cn.cut[m.From] || cn.cut[m.To] {
					continue
				}
				if err := cn.ns[m.To].Step(m); err != nil {
					cn.fatal(err)
				}
			}
		}
	}
}

// takeApplied returns what node id's Outputs handed to its service since
// the last call, in order, and forgets it.
func (cn *coreNet) takeApplied(id int) []Apply {
	msgs := cn.applied[id]
	cn.applied[id] = nil
	return msgs
}

// tick is one Node.Tick of node id. The tests give their inputs through
// the Node too (cn.tick, cn.ns[id].Propose, Snapshot, Unreachable) when
// flush delivers the messages; those that hand messages over themselves,
// to look at one core's output, use the core's own methods.
func (cn *coreNet) tick(id int) {
	if err := cn.ns[id].Tick(); err != nil {
		cn.fatal(err)
	}
}

// beat lets leader r's heartbeat interval elapse, and delivers what it
// sends: its first AppendEntries to the servers that voted for it goes
// then, not upon election (rule F5 of docs/guide.md).
func (cn *coreNet) beat(r *node) {
	for range r.cfg.HeartbeatTicks {
		cn.tick(r.id)
	}
	cn.flush()
}

func (cn *coreNet) elect(id int) *node {
	r := cn.nodes[id]
	for r.role != candidate && r.role != leader {
		cn.tick(id)
	}
	cn.flush()
	if r.role != leader {
		cn.fatal(fmt.Errorf("n%d should have won, is %v", id, r.role))
	}
	return r
}

func TestElectionAndCommit(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	require.Equal(t, 1, l.currentTerm)
	for _, r := range cn.nodes[1:] {
		require.Equal(t, 0, r.votedFor, "votedFor is persisted with the vote")
	}
	idx, term, ok := cn.ns[l.id].Propose("x")
	require.True(t, ok)
	require.Equal(t, 1, idx)
	require.Equal(t, 1, term)
	cn.flush()
	require.Equal(t, 1, l.commitIndex)
	// Followers learn the commit with the next AppendEntries.
	for range l.cfg.HeartbeatTicks {
		cn.tick(l.id)
	}
	cn.flush()
	for _, r := range cn.nodes {
		require.Equal(t, 1, r.commitIndex, "n%d", r.id)
		require.Equal(t, []Apply{{Command: "x", Index: 1, Term: 1}}, cn.takeApplied(r.id), "n%d", r.id)
	}
	// Reference: §5.2, §5.3
}

// A candidate whose log is less up-to-date loses (§5.4.1), comparing the
// last term first and the length second.
func TestUpToDate(t *testing.T) {
	r := newCoreNet(t, 3).nodes[0]
	r.currentTerm = 3
	r.log.append(Entry{Term: 1}, Entry{Term: 3})
	require.False(t, r.upToDate(5, 2), "longer log with an older last term")
	require.True(t, r.upToDate(1, 4), "shorter log with a newer last term")
	require.True(t, r.upToDate(2, 3))
	require.False(t, r.upToDate(1, 3))
	// Reference: section 5.4.1
}

// Figure 8: a leader never commits an entry of an earlier term by counting
// replicas; it commits when an entry of its own term reaches a majority.
func TestFigure8CommitRule(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.nodes[0]
	// n0 holds an entry of term 2 that n1 also holds; n0 is now leader of term 4.
	for _, r := range cn.nodes[:2] {
		r.log.append(Entry{Term: 2, Command: "old"})
		r.currentTerm = 3
	}
	cn.nodes[2].currentTerm = 3
	l = cn.elect(0)
	require.Equal(t, 4, l.currentTerm)
	cn.beat(l)
	require.Equal(t, 1, l.matchIndex[1], "n1 holds index 1")
	require.Equal(t, 0, l.commitIndex, "index 1 (term 2) is on a majority but must not commit by counting")
	cn.ns[l.id].Propose("new")
	cn.flush()
	require.Equal(t, 2, l.commitIndex, "the term-4 entry commits, and index 1 with it")
	// Reference: section 5.4.2, Figure 8
}

// Replies to a request of an older term are dropped, even a success that
// would move matchIndex (raft-bugs.md M11).
func TestStaleReplyIgnored(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	cn.ns[l.id].Propose("a")
	cn.flush()
	stale := Message{Kind: MsgAppendEntriesReply, From: 1, To: 0, Term: l.currentTerm, ReqTerm: l.currentTerm - 1, Success: true, MatchIndex: 1}
	l.matchIndex[1] = 0
	require.NoError(t, l.Step(stale))
	require.Equal(t, 0, l.matchIndex[1])
	// A higher-term rejection makes the leader step down, not back up.
	require.NoError(t, l.Step(Message{Kind: MsgAppendEntriesReply, From: 1, To: 0, Term: l.currentTerm + 1, ReqTerm: l.currentTerm}))
	require.Equal(t, follower, l.role)
	// Reference: section 5.1
}

// A matching AppendEntries that arrives late must not truncate entries
// that follow the ones it carries (raft-bugs.md M2).
func TestNoTruncateOnMatch(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	r.currentTerm = 1
	app := func(prev int, es ...Entry) {
		require.NoError(t, r.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: prev, PrevLogTerm: 1, Entries: es}))
		r.Ready()
	}
	r.log.append(Entry{Term: 1})
	app(1, Entry{Term: 1, Command: 2}, Entry{Term: 1, Command: 3})
	app(1, Entry{Term: 1, Command: 2}) // the older, shorter request
	require.Equal(t, 3, r.log.lastIndex())
}

// The fast backup: worked example of docs/guide.md. The follower's log has
// terms 1 1 1 2 2 2 3 3 3 3 3 (a stale leader of term 3 wrote 6..11); the
// new leader's has 1 1 1 4 4 5 5 6 6 6. The leader backs up a term at a
// time, and agrees with a plain decrement-by-one twin on where the logs
// match, in fewer round trips.
func TestFastBackup(t *testing.T) {
	leaderTerms := []int{1, 1, 1, 4, 4, 5, 5, 6, 6, 6}
	followerTerms := []int{1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3}
	fast, fastMatch := backup(t, leaderTerms, followerTerms, true)
	slow, slowMatch := backup(t, leaderTerms, followerTerms, false)
	require.Equal(t, 3, fastMatch)
	require.Equal(t, slowMatch, fastMatch, "same agreement point as the plain backup")
	require.Less(t, fast, slow)
	require.LessOrEqual(t, fast, 3, "one round trip per conflicting term")
	// Reference: section 5.3 (the optimisation at the end)
}

// backup replicates from a leader with leaderTerms to a follower with
// followerTerms, and returns the number of rejected AppendEntries and the
// index at which the logs first matched.
func backup(t *testing.T, leaderTerms, followerTerms []int, fast bool) (rejects, matched int) {
	cn := newCoreNet(t, 2)
	l, f := cn.nodes[0], cn.nodes[1]
	for _, tm := range leaderTerms {
		l.log.append(Entry{Term: tm})
	}
	for _, tm := range followerTerms {
		f.log.append(Entry{Term: tm})
	}
	l.currentTerm, f.currentTerm = 6, 6
	l.becomeLeader()
	for range 50 {
		rd := l.Ready()
		if len(rd.Messages) == 0 {
			break
		}
		for _, m := range rd.Messages {
			require.NoError(t, f.Step(m))
			for _, resp := range f.Ready().Messages {
				if !resp.Success {
					rejects++
					if !fast { // the plain twin: decrement by one
						resp.ConflictTerm, resp.ConflictIndex = NoConflictTerm, m.PrevLogIndex
					}
				} else if matched == 0 {
					matched = m.PrevLogIndex
				}
				require.NoError(t, l.Step(resp))
			}
		}
	}
	require.Equal(t, leaderTerms, terms(f), "follower's log now equals the leader's")
	return rejects, matched
}

func terms(r *node) []int {
	var ts []int
	for i := r.log.base + 1; i <= r.log.lastIndex(); i++ {
		ts = append(ts, r.log.at(i).Term)
	}
	return ts
}

// Malformed messages get an error and change nothing; they never panic.
func TestMalformedMessages(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	bad := []Message{
		{Kind: 0, From: 0, To: 1},
		{Kind: MsgAppendEntries, From: 7, To: 1, Term: 1},
		{Kind: MsgAppendEntries, From: 1, To: 1, Term: 1},
		{Kind: MsgAppendEntries, From: 0, To: 1, Term: -1},
		{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: -3},
		{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, Entries: []Entry{{Term: 9}}},
		{Kind: MsgAppendEntriesReply, From: 0, To: 1, Term: 1, ConflictIndex: -1},
		{Kind: MsgRequestVote, From: 0, To: 2, Term: 1},
	}
	for _, m := range bad {
		require.Error(t, r.Step(m), "%v", m)
		require.Equal(t, 0, r.currentTerm)
		require.Empty(t, r.Ready().Messages)
	}
	// Beyond MaxTermOrIndex: refused, since a node that took such a term
	// would persist a state it cannot read back after a crash.
	for _, m := range []Message{
		{Kind: MsgRequestVote, From: 0, To: 1, Term: 1 << 40},
		{Kind: MsgAppendEntriesReply, From: 0, To: 1, Term: MaxTermOrIndex + 1, ReqTerm: 1},
		{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, LeaderCommit: 1 << 50},
	} {
		require.ErrorContains(t, r.Step(m), "beyond", "%v", m)
		require.Equal(t, 0, r.currentTerm)
	}
	// Out-of-range but well-formed: a refusal, not a panic.
	require.NoError(t, r.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1, PrevLogIndex: MaxTermOrIndex, PrevLogTerm: 3}))
	out := r.Ready().Messages
	require.Len(t, out, 1)
	require.False(t, out[0].Success)
	require.Equal(t, NoConflictTerm, out[0].ConflictTerm)
	require.Equal(t, 1, out[0].ConflictIndex)
}

func TestCorruptState(t *testing.T) {
	good := newCoreNet(t, 3).nodes[0]
	good.currentTerm, good.votedFor = 2, 1
	good.log.append(Entry{Term: 1, Command: 7}, Entry{Term: 2, Command: 8})
	data := good.encodeState()
	st, err := decodeState(data, 0, 3)
	require.NoError(t, err)
	require.Equal(t, 2, st.Term)
	require.Len(t, st.Entries, 2)

	for name, bytes := range map[string][]byte{
		"truncated": data[:len(data)/2],
		"garbage":   []byte("not a raft state"),
	} {
		_, err := decodeState(bytes, 2, 3)
		require.ErrorIs(t, err, ErrCorruptState, name)
		require.Contains(t, err.Error(), "n2", name)
	}
	bad := newCoreNet(t, 3).nodes[0]
	bad.currentTerm, bad.votedFor = 1, 5
	_, err = decodeState(bad.encodeState(), 0, 3)
	require.ErrorIs(t, err, ErrCorruptState)
	require.Contains(t, err.Error(), "votedFor 5")
}

func TestNewRefusesCorruptState(t *testing.T) {
	p := &memPersister{state: []byte("garbage")}
	rf, err := New(make([]raftPeer, 3), 1, p, make(chan raftapiApplyMsg))
	require.ErrorIs(t, err, ErrCorruptState)
	require.ErrorIs(t, rf.Err(), ErrCorruptState)
	_, _, isLeader := rf.Start(1)
	require.False(t, isLeader)
	var reply RequestVoteReply
	rf.RequestVote(&RequestVoteArgs{Term: 5, CandidateId: 0}, &reply)
	require.False(t, reply.VoteGranted)
	rf.RequestVote(nil, nil)
	rf.Kill()
	require.Equal(t, []byte("garbage"), p.state, "nothing persisted is lost")
}

// A vote for n0 survives a restart. gob omits zero fields, so decoding
// into a state prefilled with VotedFor None once turned votedFor 0 into
// None: n0's vote was forgotten, and n0 could vote again in its term. The
// invariants Observer caught it (VotedForStable at restart, in
// UnreliableChurn3C).
func TestVoteForNodeZeroSurvivesRestart(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	r.currentTerm, r.votedFor = 4, 0
	st, err := decodeState(r.encodeState(), 1, 3)
	require.NoError(t, err)
	require.Equal(t, 4, st.Term)
	require.Equal(t, 0, st.VotedFor, "votedFor n0 persisted, so restored")
	fresh, err := decodeState(nil, 1, 3)
	require.NoError(t, err)
	require.Equal(t, None, fresh.VotedFor)
	// Reference: Figure 2 (persistent state: votedFor)
}

// Whatever term a node accepts, it can read back after a crash: the bound
// of validate and the bound of decodeState are one (MaxTermOrIndex).
func TestLargestTermSurvivesRestart(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	require.NoError(t, r.Step(Message{Kind: MsgRequestVote, From: 0, To: 1, Term: MaxTermOrIndex}))
	require.Equal(t, MaxTermOrIndex, r.currentTerm)
	st, err := decodeState(r.encodeState(), 1, 3)
	require.NoError(t, err)
	require.Equal(t, MaxTermOrIndex, st.Term)
	require.Equal(t, 0, st.VotedFor)
}

// An AppendEntries of an older term is refused and does not restart the
// election timer: a deposed leader must not keep a follower from electing
// a new one (raft-bugs.md M3).
func TestStaleTermKeepsTimer(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	r.currentTerm = 2
	r.electionElapsed = 5
	require.NoError(t, r.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 1}))
	require.Equal(t, 5, r.electionElapsed, "a term-1 AppendEntries restarted the timer of a term-2 node")
	require.False(t, r.Ready().Messages[0].Success)
	// Reference: section 5.1, Figure 2 (Rules for Servers, Followers)
}

// commitIndex follows leaderCommit only up to the last entry the
// AppendEntries vouched for, not to the end of a log whose tail may be
// stale (raft-bugs.md M6).
func TestCommitCappedByLastNewEntry(t *testing.T) {
	r := newCoreNet(t, 3).nodes[1]
	r.currentTerm = 2
	// Entries 2 and 3 came from a deposed leader of term 1.
	r.log.append(Entry{Term: 1}, Entry{Term: 1}, Entry{Term: 1})
	// The leader of term 2 matches through 1 only, and has committed 3
	// entries of its own.
	require.NoError(t, r.Step(Message{Kind: MsgAppendEntries, From: 0, To: 1, Term: 2, PrevLogIndex: 1, PrevLogTerm: 1, LeaderCommit: 3}))
	require.Equal(t, 1, r.commitIndex, "a heartbeat that vouches for index 1 committed the follower's stale tail")
	// Reference: Figure 2 (AppendEntries RPC, receiver implementation, 5)
}

// A leader sets matchIndex from what the acknowledged request carried,
// not from its log now: entries proposed after the request was sent are
// not on the follower (raft-bugs.md M10).
func TestMatchIndexFromRequest(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	l.Propose("a") // sent at once to n1 and n2
	rd := l.Ready()
	l.Propose("b") // waits: an AppendEntries to each is in flight
	for _, m := range rd.Messages {
		require.NoError(t, cn.nodes[m.To].Step(m))
		for _, resp := range cn.nodes[m.To].Ready().Messages {
			require.NoError(t, l.Step(resp))
		}
	}
	require.Equal(t, 1, l.matchIndex[1], "n1 acknowledged index 1 only")
	require.Equal(t, 1, l.commitIndex, "index 2 is on the leader alone")
	// Reference: section 5.3, Figure 2 (Rules for Servers, Leaders)
}

// The fast backup jumps to the leader's last entry of the conflicting
// term, where the plain decrement-by-one twin finds agreement: the
// follower's entries of that term up to there are the leader's (Log
// Matching), so nothing before them needs sending again.
func TestFastBackupToLastEntryOfConflictTerm(t *testing.T) {
	leaderTerms := []int{1, 1, 4, 4, 4, 6, 6}
	followerTerms := []int{1, 1, 4, 4, 4, 4, 4} // 6, 7 from a stale leader of term 4
	_, fastMatch := backup(t, leaderTerms, followerTerms, true)
	_, slowMatch := backup(t, leaderTerms, followerTerms, false)
	require.Equal(t, 5, slowMatch)
	require.Equal(t, slowMatch, fastMatch, "the fast backup overshot the agreement point")
	// Reference: section 5.3 (the optimisation at the end)
}
