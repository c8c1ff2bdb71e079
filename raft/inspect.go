package raft

// NodeState is a copy of a Node's protocol state: what Figure 2 keeps on
// each server, and a candidate's votes. It is for checkers outside the
// package (trace validation maps it to the executable spec's state); the
// core never reads it back.
type NodeState struct {
	ID, Peers int
	Term      int
	VotedFor  int // None if no vote in Term
	Leader    bool
	Candidate bool
	// The log: entries Base+1 .. Base+len(Entries); entries through Base
	// are in the snapshot, whose last one had term BaseTerm.
	Base, BaseTerm int
	Entries        []Entry
	CommitIndex    int
	LastApplied    int
	// Votes[p]: p granted this node its vote in Term (candidates only).
	Votes []bool
	// Leaders only: the next entry to send to each server, and the
	// highest entry known replicated on each (this node's own: its last
	// index).
	NextIndex, MatchIndex []int
	// Outbox holds the messages the inputs since the last Ready produced,
	// which the next Ready will hand out.
	Outbox []Message
}

// Inspect returns a copy of the node's state: changing it changes
// nothing in the node.
func (n *Node) Inspect() NodeState {
	c := n.c
	return NodeState{ID: c.id, Peers: c.n, Term: c.currentTerm, VotedFor: c.votedFor,
		Leader: c.role == leader, Candidate: c.role == candidate,
		Base: c.log.base, BaseTerm: c.log.baseTerm, Entries: append([]Entry(nil), c.log.entries...),
		CommitIndex: c.commitIndex, LastApplied: c.lastApplied,
		Votes: append([]bool(nil), c.votes...), NextIndex: append([]int(nil), c.nextIndex...),
		MatchIndex: append([]int(nil), c.matchIndex...), Outbox: outbox(c.msgs)}
}

// outbox copies msgs deeply: a message's Entries and Data are its own.
func outbox(msgs []Message) []Message {
	out := append([]Message(nil), msgs...)
	for i := range out {
		out[i].Entries = append([]Entry(nil), out[i].Entries...)
		out[i].Data = append([]byte(nil), out[i].Data...)
	}
	return out
}
