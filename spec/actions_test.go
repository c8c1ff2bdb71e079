package spec

import (
	"strings"
	"testing"
)

// step applies one action of the spec to s, failing the test if it is
// disabled, and returns the successor.
func step(t *testing.T, s State, ok func(t *State) bool, what string) State {
	t.Helper()
	var u State
	if !ok(&u) {
		t.Fatalf("%s: disabled", what)
	}
	return u
}

// msg finds the one message of type typ from src to dst in the bag.
func msg(t *testing.T, s *State, typ MsgType, src, dst uint8) Packed {
	t.Helper()
	for _, m := range s.Msgs[:s.NMsgs] {
		if m.Type() == typ && m.Src() == src && m.Dst() == dst {
			return m.key()
		}
	}
	t.Fatalf("no %s n%d→n%d in the bag", typ, src, dst)
	return 0
}

// An election and a replication, action by action, each as raft.tla has
// it. Reference: §5.2, §5.3, Figure 2.
func TestElectionAndReplication(t *testing.T) {
	p, err := NewSpec(Config{Servers: 3, Values: 2, MaxTerm: 3, MaxLog: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Init()
	s = step(t, s, func(u *State) bool { return p.Timeout(&s, u, 0) }, "Timeout(n0)")
	if sv := s.Servers[0]; sv.CurrentTerm != 2 || sv.State != Candidate || sv.VotedFor != 0 || sv.VotesGranted != 1 {
		t.Fatalf("after Timeout(n0): %+v, want a candidate of term 2 that voted for itself", sv)
	}
	var u State
	if p.RequestVote(&s, &u, 0, 0) {
		t.Error("RequestVote(n0, n0) enabled: the candidate voted for itself in Timeout")
	}
	s = step(t, s, func(u *State) bool { return p.RequestVote(&s, u, 0, 1) }, "RequestVote(n0, n1)")
	rv := msg(t, &s, MsgRequestVote, 0, 1)
	kind, _ := p.Receive(&s, &u, rv)
	if kind != ActUpdateTerm {
		t.Fatalf("n1 in term 1 receives a term-2 request: %v, want UpdateTerm first", kind)
	}
	s = step(t, s, func(u *State) bool { return p.UpdateTerm(&s, u, rv) }, "UpdateTerm")
	if s.NMsgs != 1 {
		t.Error("UpdateTerm consumed the message; it must stay, to be handled next")
	}
	s = step(t, s, func(u *State) bool { return p.HandleRequestVoteRequest(&s, u, rv) }, "HandleRequestVoteRequest")
	if s.Servers[1].VotedFor != 0 || !msg(t, &s, MsgRequestVoteReply, 1, 0).Unpack().VoteGranted {
		t.Fatal("n1 did not grant its vote to n0")
	}
	s = step(t, s, func(u *State) bool { return p.HandleRequestVoteResponse(&s, u, msg(t, &s, MsgRequestVoteReply, 1, 0)) }, "HandleRequestVoteResponse")
	s = step(t, s, func(u *State) bool { return p.BecomeLeader(&s, u, 0) }, "BecomeLeader(n0)")
	if s.Servers[0].State != Leader || s.LeadersIn[2] != 1 {
		t.Fatalf("n0 is not the recorded leader of term 2: %+v", s.Servers[0])
	}
	s = step(t, s, func(u *State) bool { return p.ClientRequest(&s, u, 0, 2) }, "ClientRequest(n0, v2)")
	s = step(t, s, func(u *State) bool { return p.AppendEntries(&s, u, 0, 1) }, "AppendEntries(n0, n1)")
	ae := msg(t, &s, MsgAppendEntries, 0, 1).Unpack()
	if ae.PrevLogIndex != 0 || !ae.HasEntry || ae.Entry != (Entry{2, 2}) {
		t.Fatalf("AppendEntries carries %v, want prev 0 and the entry 2:v2", ae)
	}
	// Append, then reply: two steps, the request staying in between.
	s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesRequest(&s, u, ae.Pack()) }, "append")
	s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesRequest(&s, u, ae.Pack()) }, "reply")
	if s.Servers[1].LogLen != 1 || s.Servers[1].Log[0] != (Entry{2, 2}) {
		t.Fatalf("n1's log is %v, want [2:v2]", logText(&s.Servers[1]))
	}
	s = step(t, s, func(u *State) bool {
		return p.HandleAppendEntriesResponse(&s, u, msg(t, &s, MsgAppendEntriesReply, 1, 0))
	}, "HandleAppendEntriesResponse")
	if s.Servers[0].MatchIndex[1] != 1 || s.Servers[0].NextIndex[1] != 2 {
		t.Fatalf("n0's matchIndex/nextIndex for n1: %d/%d, want 1/2", s.Servers[0].MatchIndex[1], s.Servers[0].NextIndex[1])
	}
	s = step(t, s, func(u *State) bool { return p.AdvanceCommitIndex(&s, u, 0) }, "AdvanceCommitIndex(n0)")
	if s.Servers[0].CommitIndex != 1 || s.NCommitted != 1 || s.Committed[0].InTerm != 2 {
		t.Fatalf("n0 commitIndex %d, history %d entries, want 1 and 1 (in term 2)", s.Servers[0].CommitIndex, s.NCommitted)
	}
	if p.AdvanceCommitIndex(&s, &u, 0) {
		t.Error("AdvanceCommitIndex enabled with nothing new to commit")
	}

	// A stale response is dropped; a stale request is refused.
	old := Msg{Type: MsgAppendEntriesReply, Term: 1, Src: 2, Dst: 0}
	s.send(old.Pack())
	if kind, ok := p.Receive(&s, &u, old.Pack()); kind != ActDropStaleResponse || !ok || u.count(old.Pack()) != 0 {
		t.Errorf("stale response: %v, %v", kind, ok)
	}
}

// Conflicting entries go one at a time; a fast-backup rejection carries
// the conflicting term and its first index, and the leader uses them.
// Reference: §5.3.
func TestConflictAndFastBackup(t *testing.T) {
	p, _ := NewSpec(Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 3, FastBackup: true})
	s := p.Init()
	for i := range 3 {
		s.Servers[i].CurrentTerm = 4
	}
	s.Servers[0].State = Leader
	withLog(&s, 0, 2, 4, 4)
	withLog(&s, 1, 2, 3, 3)
	s.Servers[0].NextIndex[1] = 4
	var u State
	s = step(t, s, func(u *State) bool { return p.AppendEntries(&s, u, 0, 1) }, "AppendEntries")
	rq := msg(t, &s, MsgAppendEntries, 0, 1)
	s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesRequest(&s, u, rq) }, "reject")
	rs := msg(t, &s, MsgAppendEntriesReply, 1, 0).Unpack()
	if rs.Success || rs.ConflictTerm != 3 || rs.ConflictIndex != 2 {
		t.Fatalf("rejection %v, want conflict 3@2", rs)
	}
	s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesResponse(&s, u, rs.Pack()) }, "backup")
	if next := s.Servers[0].NextIndex[1]; next != 2 {
		t.Fatalf("nextIndex %d after the hint, want 2 (the leader has no term 3)", next)
	}
	s = step(t, s, func(u *State) bool { return p.AppendEntries(&s, u, 0, 1) }, "AppendEntries")
	rq = msg(t, &s, MsgAppendEntries, 0, 1)
	for want := uint8(2); want >= 1; want-- {
		s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesRequest(&s, u, rq) }, "remove")
		if s.Servers[1].LogLen != want {
			t.Fatalf("follower's log %s, want %d entries after removing one", logText(&s.Servers[1]), want)
		}
	}
	s = step(t, s, func(u *State) bool { return p.HandleAppendEntriesRequest(&s, u, rq) }, "append")
	if got := logText(&s.Servers[1]); got != "[2:v1 4:v1]" {
		t.Fatalf("follower's log %s, want [2:v1 4:v1]", got)
	}
	// The planted bug takes the follower to match all of the leader's log.
	b, _ := NewSpec(Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 3, Bug: BugFastBackupSkip})
	if !b.HandleAppendEntriesResponse(&s, &u, rs.Pack()) || u.Servers[0].MatchIndex[1] != 3 {
		t.Errorf("fastbackup-skip: matchIndex %d, want 3", u.Servers[0].MatchIndex[1])
	}
}

// The bounds: MaxInFlight messages between two servers, MaxCopies of one
// message, and a bag that cannot hold more is a model error.
func TestBounds(t *testing.T) {
	p, _ := NewSpec(Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 1, MaxInFlight: 1, Duplicate: true, Drop: true, MaxCopies: 2})
	s := p.Init()
	var u State
	s = step(t, s, func(u *State) bool { return p.Timeout(&s, u, 0) }, "Timeout")
	s = step(t, s, func(u *State) bool { return p.RequestVote(&s, u, 0, 1) }, "RequestVote")
	if p.RequestVote(&s, &u, 0, 1) {
		t.Error("a second request to n1 with a message between them and MaxInFlight 1")
	}
	rv := msg(t, &s, MsgRequestVote, 0, 1)
	s = step(t, s, func(u *State) bool { return p.DuplicateMessage(&s, u, rv) }, "Duplicate")
	if p.DuplicateMessage(&s, &u, s.Msgs[0]) {
		t.Error("a third copy with MaxCopies 2")
	}
	s = step(t, s, func(u *State) bool { return p.DropMessage(&s, u, rv) }, "Drop")
	if s.count(rv) != 1 {
		t.Errorf("%d copies after a drop, want 1", s.count(rv))
	}

	m, _ := NewModel(Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 1, MaxInFlight: -1})
	full := p.Init()
	full.Servers[0].State, full.Servers[0].CurrentTerm = Candidate, 2
	for k := range MaxBag {
		full.Msgs[k] = (&Msg{Type: MsgAppendEntriesReply, Term: 1, Src: 2, Dst: 1, MatchIndex: uint8(k % 16), ConflictIndex: uint8(k / 16)}).Pack() | 1
	}
	full.NMsgs = MaxBag
	sortBag(full.Msgs[:])
	err := m.NewWorker().Next(&full, func(Action, *State) {})
	if err == nil || !strings.Contains(err.Error(), "MaxBag") {
		t.Errorf("Next on a full bag: %v, want the MaxBag error", err)
	}
}

func TestValidate(t *testing.T) {
	for _, bad := range []Config{
		{Servers: 0, Values: 1, MaxTerm: 2},
		{Servers: 6, Values: 1, MaxTerm: 2},
		{Servers: 3, Values: 0, MaxTerm: 2},
		{Servers: 3, Values: 1, MaxTerm: 16},
		{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 9},
		{Servers: 3, Values: 1, MaxTerm: 2, MaxCopies: 16},
		{Servers: 3, Values: 1, MaxTerm: 2, MaxInFlight: MaxBag + 1},
		{Servers: 3, Values: 1, MaxTerm: 2, Bug: Bug(99)},
	} {
		if err := bad.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil, want an error", bad)
		}
	}
	c := Config{Servers: 3, Values: 1, MaxTerm: 2, Bug: BugForgetVote}
	if err := c.Validate(); err != nil || !c.Restart || c.MaxCopies != 1 || c.MaxInFlight != 2 {
		t.Errorf("Validate filled %+v, %v; want Restart on (forget-vote needs it), MaxCopies 1, MaxInFlight 2", c, err)
	}
	for _, name := range BugNames() {
		if b, err := ParseBug(name); err != nil || b.String() != name {
			t.Errorf("ParseBug(%q) = %v, %v", name, b, err)
		}
	}
	if _, err := ParseBug("nope"); err == nil {
		t.Error("ParseBug(nope) gave no error")
	}
}
