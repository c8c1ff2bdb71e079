// Package spec is the Raft protocol as pure transitions over one global
// state, action by action as in Ongaro's raft.tla, and the model that the
// checker in spec/mc explores. Its properties are those of package
// invariants, evaluated on every reachable state through Views, plus a few
// only a global state can express.
//
// Sizes are fixed arrays so that a State is a value: assignment copies it,
// and the checker's inner loop does not allocate. The bounds that make the
// state space finite (MaxTerm, MaxLog, MaxCopies, MaxInFlight) are in
// Config. docs/spec.md maps each action to raft.tla and to the reference
// core, lists where the spec departs from raft.tla, and shows how to read
// a counterexample.
package spec

// Fixed capacities of a State. Config bounds must fit within them.
const (
	MaxServers = 5
	MaxLog     = 8  // entries per log
	MaxBag     = 64 // distinct messages in flight
	maxField   = 15 // terms, indices and values are packed in 4 bits
)

// Role is a server's state in raft.tla: Follower, Candidate or Leader.
type Role uint8

const (
	Follower Role = iota
	Candidate
	Leader
)

var roleNames = [...]string{"Follower", "Candidate", "Leader"}

func (r Role) String() string {
	if int(r) < len(roleNames) {
		return roleNames[r]
	}
	return "Role(?)"
}

// Nil is the votedFor of a server that has not voted in its current term.
const Nil = 0xff

// Entry is one log entry: the term in which a leader created it, and the
// client value (1..Config.Values).
type Entry struct{ Term, Value uint8 }

// Server is the per-server state of raft.tla (Figure 2's state, plus the
// candidate's vote tallies). Servers are numbered 0..n-1 and printed
// n0..n(n-1), as the reference core and package invariants name nodes.
type Server struct {
	CurrentTerm uint8 // latest term the server has seen
	State       Role
	VotedFor    uint8 // candidate voted for in CurrentTerm, or Nil
	LogLen      uint8
	Log         [MaxLog]Entry // Log[k-1] is the entry at index k
	CommitIndex uint8         // highest index known committed; Invariant: CommitIndex ≤ LogLen

	// Candidate only (raft.tla keeps them on every server).
	VotesResponded uint8 // bitmask of servers that answered in CurrentTerm
	VotesGranted   uint8 // bitmask of servers that voted for it in CurrentTerm

	// Leader only (raft.tla keeps them on every server).
	NextIndex  [MaxServers]uint8 // next entry to send to each server
	MatchIndex [MaxServers]uint8 // highest entry known replicated on each server
}

// LastTerm is the term of the last entry of the log, or 0 if it is empty.
func (s *Server) LastTerm() uint8 {
	if s.LogLen == 0 {
		return 0
	}
	return s.Log[s.LogLen-1].Term
}

// CommittedEntry is a history variable: an entry known committed, and the
// term of the server whose commitIndex first covered it (the term in which
// it was committed, for LeaderCompleteness).
type CommittedEntry struct {
	Entry
	InTerm uint8
}

// State is the global state: every server, the bag of messages in flight,
// and the history variables.
type State struct {
	Servers [MaxServers]Server

	// Msgs is the bag (multiset) of messages, sorted by packed message with
	// the copy count in the low bits; NMsgs are in use. A message whose
	// count falls to 0 leaves the bag (raft.tla keeps it in the domain of
	// its function with count 0).
	NMsgs uint8
	Msgs  [MaxBag]Packed

	// History variables, which the protocol never reads (raft.tla keeps
	// elections, allLogs and voterLog for its proof). They are part of the
	// state and of its fingerprint, unless Config.NoHistory, which leaves
	// them zero.
	//
	// LeadersIn[t] is the set (bitmask) of servers that became leader in
	// term t: ElectionSafety holds "ever", not only among current leaders.
	LeadersIn [maxField + 1]uint8
	// Committed[k-1] is the entry at index k, for k ≤ NCommitted: the
	// entries some server's commitIndex has covered, for
	// LeaderCompleteness and CommittedPrefix.
	NCommitted uint8
	Committed  [MaxLog]CommittedEntry
}

// initState is raft.tla's Init: every server a follower in term 1 with an
// empty log, no messages.
func initState(n int) State {
	var s State
	for i := 0; i < n; i++ {
		sv := &s.Servers[i]
		sv.CurrentTerm = 1
		sv.VotedFor = Nil
		for j := 0; j < n; j++ {
			sv.NextIndex[j] = 1
		}
	}
	return s
}
