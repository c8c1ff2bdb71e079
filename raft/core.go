package raft

import (
	"errors"
	"fmt"
)

// None is the votedFor of a node that has not voted in its current term.
const None = -1

type role int

const (
	follower role = iota
	candidate
	leader
)

func (r role) String() string { return [...]string{"follower", "candidate", "leader"}[r] }

// Config sets up one node of the core.
type Config struct {
	ID    int // this node, in [0, Peers)
	Peers int // cluster size
	// ElectionTicks is the least election timeout, in ticks; each timeout
	// is drawn at random from [ElectionTicks, 2*ElectionTicks) (§5.2:
	// randomized timeouts make split votes rare).
	ElectionTicks int
	// HeartbeatTicks is the leader's heartbeat interval, in ticks.
	HeartbeatTicks int
	// Rand returns a number in [0, n). It is the core's only source of
	// randomness, so a seeded Rand replays a run exactly.
	Rand func(n int) int
	// Observer, an *invariants.Observer, is where the node reports every
	// transition when built with -tags invariants (nil: nowhere). Each
	// cluster has its own, so clusters can run side by side. It is typed
	// any so that package raft imports invariants only with the tag.
	Observer any
}

// node is the core: Figure 2 as a single-threaded, deterministic state
// machine. No goroutines, clock, locks or I/O. Input arrives through Step,
// Tick, Propose and Snapshot, each one state transition; output is taken
// by Ready (messages, and whether state must be persisted first) and
// nextApply (what to deliver to the service).
type node struct {
	cfg Config
	id  int
	n   int

	// Persistent state on all servers (Figure 2). Saved before any
	// message that depends on it leaves the node (see Ready).
	currentTerm int     // latest term seen; never decreases
	votedFor    int     // candidate voted for in currentTerm, or None; changes only with currentTerm
	log         raftLog // Invariant: terms never decrease along it, none exceeds currentTerm
	snapshot    []byte  // the service's snapshot through log.base

	// Volatile state on all servers.
	commitIndex int // highest index known committed; Invariant: log.base <= commitIndex <= log.lastIndex()
	// lastApplied is the highest index handed to the service; Invariant:
	// lastApplied <= commitIndex. It is below log.base only between an
	// InstallSnapshot and the hand-out of its snapshot to the service.
	lastApplied int
	role        role

	// Candidates: who granted a vote in currentTerm.
	votes []bool

	// Leaders, reinitialized after election (Figure 2).
	nextIndex  []int  // next entry to send to each server
	matchIndex []int  // highest entry known replicated on each server; never decreases within a term
	inflight   []bool // an AppendEntries to the server awaits its reply
	scratch    []int
	// heartbeatElapsed is, per server, the ticks since the last
	// AppendEntries or InstallSnapshot to it: a heartbeat goes only to a
	// server that heard nothing from the leader for HeartbeatTicks.
	heartbeatElapsed []int

	// All servers, not in Figure 2: what the node knows of reaching each
	// peer (frugal.go). They decide only whether a request is worth
	// sending now, never what it says, so they save RPCs without touching
	// safety: the network may lose any message anyway.
	lead    int   // the last leader this node heard from (or itself, if it led last), or None
	pending []int // requests to the peer awaiting a reply or a failure
	silent  []int // ticks since a message came from the peer, up to ElectionTicks
	asked   []int // ticks since the last request to the peer, up to 3*ElectionTicks (the longest probeTicks)

	electionElapsed int
	electionTimeout int

	// Output, taken by Ready.
	msgs  []Message
	dirty bool // persistent state changed since the last Ready

	durable durable // what was last persisted, for the persist-before-send check
	handed  durable // what the last PersistentState handed out holds
	hooks   hookState
}

// durable summarises the persisted state.
type durable struct{ term, votedFor, lastIndex, lastTerm, base, baseTerm int }

// newNode makes a node from its persisted state (zero for a fresh node).
func newNode(cfg Config, st PersistentState, snapshot []byte) *node {
	r := &node{
		cfg:         cfg,
		id:          cfg.ID,
		n:           cfg.Peers,
		currentTerm: st.Term,
		votedFor:    st.VotedFor,
		log:         raftLog{base: st.Base, baseTerm: st.BaseTerm, entries: st.Entries},
		snapshot:    snapshot,
		votes:       make([]bool, cfg.Peers),
		nextIndex:   make([]int, cfg.Peers),
		matchIndex:  make([]int, cfg.Peers),
		inflight:    make([]bool, cfg.Peers),
		scratch:     make([]int, cfg.Peers),

		heartbeatElapsed: make([]int, cfg.Peers),
		lead:             None,
		pending:          make([]int, cfg.Peers),
		silent:           make([]int, cfg.Peers),
		asked:            make([]int, cfg.Peers),
	}
	for p := range r.silent {
		r.silent[p] = cfg.ElectionTicks // nothing heard yet
	}
	// What the snapshot holds is committed and applied by the service,
	// which reads the snapshot itself when it starts.
	r.commitIndex, r.lastApplied = r.log.base, r.log.base
	r.durable = r.summary()
	r.resetElectionTimer()
	if st.Term > 0 {
		// A restarted node first gives a live leader one more election
		// timeout to reach it (rule F6 of docs/guide.md).
		r.electionTimeout += cfg.ElectionTicks
	}
	r.hooks.init(r)
	r.observe(evStart, nil, nil, 0)
	return r
}

// Ready is the output of the transitions since the last call: the contract
// with the driver. If MustPersist, currentTerm, votedFor, the log or the
// snapshot changed, and the driver must save them (toPersist, snapshot)
// BEFORE any of Messages leaves: a vote or an acknowledgement must never
// outlive a crash that forgets it (Figure 2: "updated on stable storage
// before responding to RPCs").
type Ready struct {
	MustPersist bool
	Messages    []Message
}

// Ready takes the pending output.
func (r *node) Ready() Ready {
	rd := Ready{MustPersist: r.dirty, Messages: r.msgs}
	r.msgs, r.dirty = nil, false
	return rd
}

// toPersist is the state to save now, as data (persist.go encodes it). It
// notes what the state holds, so that persisted (called once it is saved)
// records what was really written, not what memory holds.
func (r *node) toPersist() *PersistentState {
	st := &PersistentState{Term: r.currentTerm, VotedFor: r.votedFor, Base: r.log.base, BaseTerm: r.log.baseTerm, Entries: r.log.entries}
	st.Unchanged = r.log.lastIndex()
	if r.log.unsavedFrom != 0 {
		st.Unchanged = max(r.log.unsavedFrom-1, r.log.base)
	}
	r.handed = st.summary()
	r.log.unsavedFrom = 0
	return st
}

// persisted records that the state toPersist last handed out is now saved.
func (r *node) persisted() {
	r.durable = r.handed
	r.observe(evPersist, nil, nil, 0)
}

func (r *node) summary() durable {
	return durable{r.currentTerm, r.votedFor, r.log.lastIndex(), r.log.lastTerm(), r.log.base, r.log.baseTerm}
}

// sent records that m left the node; the invariant hooks check it depends
// only on persisted state.
func (r *node) sent(m *Message) {
	r.observe(evSend, m, nil, 0)
}

func (r *node) send(m Message) {
	m.From = r.id
	if !m.Kind.isReply() {
		r.pending[m.To]++
		r.asked[m.To] = 0
	}
	r.msgs = append(r.msgs, m)
}

// ---- Time ----

// Tick advances the clocks by one tick: a follower or candidate whose
// election timeout elapses starts an election (§5.2); a leader sends a
// heartbeat to each follower that heard nothing from it for
// HeartbeatTicks (rule F1 of docs/guide.md: an AppendEntries sent for
// other reasons is a heartbeat too).
func (r *node) Tick() {
	for p := range r.silent {
		r.silent[p] = min(r.silent[p]+1, r.cfg.ElectionTicks)
		r.asked[p] = min(r.asked[p]+1, 3*r.cfg.ElectionTicks)
	}
	if r.role == leader {
		sent := false
		for p := range r.n {
			if p == r.id {
				continue
			}
			r.heartbeatElapsed[p]++
			if r.heartbeatElapsed[p] >= r.cfg.HeartbeatTicks && r.mayProbe(p) {
				r.sendAppend(p, CauseHeartbeat)
				sent = true
			}
		}
		if sent {
			r.observe(evHeartbeat, nil, nil, 0)
		}
		return
	}
	r.electionElapsed++
	if r.electionElapsed >= r.electionTimeout {
		r.campaign()
		r.observe(evTimeout, nil, nil, 0)
	}
}

func (r *node) resetElectionTimer() {
	r.electionElapsed = 0
	r.electionTimeout = r.cfg.ElectionTicks + r.cfg.Rand(r.cfg.ElectionTicks)
}

// ---- Roles: only the become* functions change r.role ----

// becomeFollower steps down to follower in term (§5.1: "If RPC request or
// response contains term T > currentTerm: set currentTerm = T, convert to
// follower"). votedFor is cleared only with a new term.
func (r *node) becomeFollower(term int) {
	if term > r.currentTerm {
		r.currentTerm, r.votedFor = term, None
		r.dirty = true
	}
	if r.role == leader {
		r.resetElectionTimer()
	}
	r.role = follower
}

// campaign becomes candidate and asks every peer for its vote (§5.2:
// "increment currentTerm, vote for self, reset election timer, send
// RequestVote RPCs to all other servers").
func (r *node) campaign() {
	r.role = candidate
	r.currentTerm++
	r.votedFor = r.id
	r.dirty = true
	clear(r.votes)
	r.votes[r.id] = true
	r.resetElectionTimer()
	if r.quorum(r.votes) {
		r.becomeLeader()
		return
	}
	// Peers presumed down are asked only if the others cannot make a
	// majority (rule F4 of docs/guide.md).
	askAll := !r.quorumUp()
	for p := range r.n {
		if p != r.id && (askAll || !r.down(p)) {
			r.send(Message{Kind: MsgRequestVote, To: p, Term: r.currentTerm,
				LastLogIndex: r.log.lastIndex(), LastLogTerm: r.log.lastTerm(), cause: CauseElection})
		}
	}
}

// becomeLeader takes office and sends a heartbeat at once (Figure 2:
// "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each
// server") to each server that did not vote for it. A voter restarted its
// election timer when it granted the vote: its first AppendEntries can
// wait for the first command or the heartbeat interval (rule F5 of
// docs/guide.md).
func (r *node) becomeLeader() {
	r.role = leader
	r.lead = r.id
	for p := range r.n {
		r.nextIndex[p] = r.log.lastIndex() + 1
		r.matchIndex[p] = 0
		r.inflight[p] = false
		r.heartbeatElapsed[p] = 0
	}
	r.matchIndex[r.id] = r.log.lastIndex()
	for p := range r.n {
		if p != r.id && !r.votes[p] && r.mayProbe(p) {
			r.sendAppend(p, CauseHeartbeat)
		}
	}
}

func (r *node) quorum(granted []bool) bool {
	k := 0
	for _, g := range granted {
		if g {
			k++
		}
	}
	return 2*k > r.n
}

// ---- Input ----

// Step handles one request or reply. Terms are handled once, first; then
// the message is dispatched by kind and role. A malformed message is
// refused with an error and changes nothing.
func (r *node) Step(m Message) error {
	if err := m.validate(r.n, r.id); err != nil {
		return err
	}
	if m.To != r.id {
		return fmt.Errorf("raft: n%d got a message for n%d", r.id, m.To)
	}
	r.heard(&m)
	if m.Term > r.currentTerm {
		r.becomeFollower(m.Term)
	}
	switch m.Kind {
	case MsgRequestVote:
		r.handleRequestVote(&m)
	case MsgAppendEntries:
		r.handleAppendEntries(&m)
	case MsgInstallSnapshot:
		r.handleInstallSnapshot(&m)
	default:
		// A reply to a request of an older term says nothing about this
		// term: drop it (§5.1; raft-bugs.md M11).
		if m.ReqTerm != r.currentTerm || m.Term != r.currentTerm {
			r.observe(evDropStale, &m, nil, 0)
			return nil
		}
		switch {
		case m.Kind == MsgRequestVoteReply && r.role == candidate:
			r.handleVoteResponse(&m)
		case m.Kind == MsgAppendEntriesReply && r.role == leader:
			r.handleAppendResponse(&m)
		case m.Kind == MsgInstallSnapshotReply && r.role == leader:
			r.handleSnapshotResponse(&m)
		}
		r.observe(evReply, &m, nil, 0)
		return nil
	}
	r.observe(evReceive, &m, nil, 0)
	return nil
}

// Propose appends command to the leader's log (the lab's Start). It
// returns the entry's index and term, and false if this node is not the
// leader.
func (r *node) Propose(command any) (index, term int, ok bool) {
	if r.role != leader {
		return -1, r.currentTerm, false
	}
	r.log.append(Entry{Term: r.currentTerm, Command: command})
	r.dirty = true
	r.matchIndex[r.id] = r.log.lastIndex()
	// The new entry goes at once to each follower with no AppendEntries
	// awaiting its reply, unless it is presumed down (rule F2 of
	// docs/guide.md); the others get it with the next AppendEntries, so
	// commands that arrive together travel together.
	for p := range r.n {
		if p != r.id && !r.inflight[p] && r.mayProbe(p) {
			r.sendAppend(p, CauseNewEntries)
		}
	}
	r.maybeCommit()
	r.observe(evPropose, nil, command, 0)
	return r.log.lastIndex(), r.currentTerm, true
}

// ErrSnapshotIndex: the service asked to snapshot through an index that
// was not yet handed to it.
var ErrSnapshotIndex = errors.New("raft: snapshot index beyond the last applied entry")

// Snapshot compacts the log through index, which the service's snapshot
// now covers (§7). An index at or below the current base is stale and
// ignored.
func (r *node) Snapshot(index int, snapshot []byte) error {
	if index <= r.log.base {
		return nil
	}
	if index > r.lastApplied {
		return fmt.Errorf("%w: n%d Snapshot(%d) with lastApplied %d", ErrSnapshotIndex, r.id, index, r.lastApplied)
	}
	r.log.compact(index)
	r.snapshot = append([]byte(nil), snapshot...)
	r.dirty = true
	r.observe(evCompact, nil, nil, 0)
	return nil
}

// nextApply hands the service what it has not seen: the snapshot an
// InstallSnapshot brought, alone, or the committed entries after
// lastApplied. Only ever forward: lastApplied never decreases
// (raft-bugs.md M19).
//
// Node.Ready hands out all it returns, in order, and a caller sends it so
// (the driver's applier, from a queue); so a snapshot installed later
// (which is beyond commitIndex, hence beyond everything handed out) reaches
// the service after the entries before it, never before or among them.
func (r *node) nextApply() []Apply {
	if r.lastApplied < r.log.base {
		// Only an InstallSnapshot moves the base past lastApplied: the
		// service's own Snapshot is never beyond it, and a restart starts
		// with lastApplied at the base.
		r.lastApplied = r.log.base
		r.observe(evApplySnapshot, nil, nil, 0)
		return []Apply{{IsSnapshot: true, Snapshot: r.snapshot, Index: r.log.base, Term: r.log.baseTerm}}
	}
	if r.lastApplied >= r.commitIndex {
		return nil
	}
	msgs := make([]Apply, 0, r.commitIndex-r.lastApplied)
	for i := r.lastApplied + 1; i <= r.commitIndex; i++ {
		e := r.log.at(i)
		msgs = append(msgs, Apply{Index: i, Term: e.Term, Command: e.Command})
	}
	from := r.lastApplied + 1
	r.lastApplied = r.commitIndex
	r.observe(evApply, nil, nil, from)
	return msgs
}

// hasApply says whether nextApply would hand out anything (a snapshot
// not yet handed out is beyond lastApplied, and at most commitIndex).
func (r *node) hasApply() bool {
	return r.lastApplied < r.commitIndex
}
