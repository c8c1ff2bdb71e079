// Package invariants states the properties of Raft (Figure 3 of the paper,
// and the local properties of ../docs/proofs) as plain functions over Views
// of nodes, and an Observer that checks them as transitions happen.
//
// The package is pure: it imports nothing of this module. The reference
// core (raft/, built with -tags invariants), the harness (tests/) and the
// executable spec (spec/) all feed it Views, so a property is written once.
package invariants

import "fmt"

// Role is a node's role in its current term.
type Role int

const (
	Follower Role = iota
	Candidate
	Leader
)

func (r Role) String() string {
	switch r {
	case Follower:
		return "follower"
	case Candidate:
		return "candidate"
	case Leader:
		return "leader"
	}
	return fmt.Sprintf("Role(%d)", int(r))
}

// None is the votedFor of a node that has not voted in its current term.
const None = -1

// Entry is one log entry.
type Entry struct {
	Term    int
	Command any
}

// View is one node's state at one moment, as the properties see it.
//
// The log is held as a snapshot base plus a suffix: entries Base+1 ..
// Base+len(Log) are Log[0 ..]; entries at or below Base were compacted into
// a snapshot whose last entry had index Base and term BaseTerm. Without
// compaction Base and BaseTerm are 0.
//
// A View may alias the node's memory (Log in particular): it is valid only
// during the call it is passed to, and is never modified by this package.
type View struct {
	ID          int
	Term        int // currentTerm: latest term the node has seen
	VotedFor    int // candidate voted for in Term, or None
	Role        Role
	Base        int // snapshot's lastIncludedIndex
	BaseTerm    int // snapshot's lastIncludedTerm
	Log         []Entry
	CommitIndex int // highest index known committed
	LastApplied int // highest index applied to the state machine

	// Persisted is what the node has written to stable storage, or nil
	// when the implementation does not say. It is compared with the
	// in-memory state when a message leaves the node (persist-before-send).
	Persisted *Durable
}

// Durable is the summary of a node's persisted Raft state.
type Durable struct {
	Term      int
	VotedFor  int
	LastIndex int // index of the last persisted log entry
	LastTerm  int // its term
}

// LastIndex is the index of the last entry of v's log (Base if none).
func (v *View) LastIndex() int { return v.Base + len(v.Log) }

// LastTerm is the term of the last entry of v's log (BaseTerm if none).
func (v *View) LastTerm() int {
	if len(v.Log) == 0 {
		return v.BaseTerm
	}
	return v.Log[len(v.Log)-1].Term
}

// TermAt returns the term of the entry at index i, and false if v no longer
// (i < Base) or not yet (i > LastIndex) holds it. Index 0 has term 0; the
// base index has term BaseTerm.
func (v *View) TermAt(i int) (int, bool) {
	switch {
	case i == v.Base:
		return v.BaseTerm, true
	case i < v.Base || i > v.LastIndex():
		return 0, false
	}
	return v.Log[i-v.Base-1].Term, true
}

// EntryAt returns the entry at index i, and false if v does not hold it as
// an entry (compacted, or beyond the end of the log).
func (v *View) EntryAt(i int) (Entry, bool) {
	if i <= v.Base || i > v.LastIndex() {
		return Entry{}, false
	}
	return v.Log[i-v.Base-1], true
}
