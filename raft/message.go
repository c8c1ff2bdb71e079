package raft

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// MsgKind is the kind of a Message: the three RPCs of Figure 2 and §7, and
// their replies. Each has one name, the paper's RPC name with "Reply" for
// the answer, as the lab's structs have it; String prints it, and so do
// spec.MsgType, the transcripts and the simulator's event log.
type MsgKind int

const (
	MsgRequestVote          MsgKind = iota + 1 // RequestVote request
	MsgRequestVoteReply                        // RequestVote reply
	MsgAppendEntries                           // AppendEntries request
	MsgAppendEntriesReply                      // AppendEntries reply
	MsgInstallSnapshot                         // InstallSnapshot request
	MsgInstallSnapshotReply                    // InstallSnapshot reply
	maxMsgKind
)

var msgNames = [...]string{"", "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply", "InstallSnapshot", "InstallSnapshotReply"}

func (k MsgKind) String() string {
	if k > 0 && k < maxMsgKind {
		return msgNames[k]
	}
	return fmt.Sprintf("MsgKind(%d)", int(k))
}

// isReply says whether k answers a request.
func (k MsgKind) isReply() bool {
	return k == MsgRequestVoteReply || k == MsgAppendEntriesReply || k == MsgInstallSnapshotReply
}

// NoConflictTerm is the ConflictTerm of a rejection by a follower whose log
// is too short to hold prevLogIndex at all.
const NoConflictTerm = -1

// Message is what the core consumes and produces: one request or reply. It
// is the union of the fields of the RPCs of Figure 2 (and §7 for
// InstallSnapshot); the driver turns it into the lab-style argument and
// reply structs and back.
type Message struct {
	Kind MsgKind
	From int
	To   int
	Term int // sender's currentTerm

	// RequestVote.
	LastLogIndex int
	LastLogTerm  int
	VoteGranted  bool

	// AppendEntries.
	PrevLogIndex int
	PrevLogTerm  int
	Entries      []Entry
	LeaderCommit int
	Success      bool
	// Fast backup (§5.3, the optimisation the paper sketches): on a
	// rejection, the term of the follower's conflicting entry and the first
	// index of that term; or NoConflictTerm and one past its last index.
	ConflictTerm  int
	ConflictIndex int

	// InstallSnapshot.
	LastIncludedIndex int
	LastIncludedTerm  int
	Data              []byte

	// Replies only: the term of the request answered, and for
	// AppendEntries/InstallSnapshot the index up to which the follower's
	// log now matches the leader's. The leader uses ReqTerm to drop
	// replies to requests of an older term (raft-bugs.md M11), and
	// MatchIndex rather than its current state (M10).
	ReqTerm    int
	MatchIndex int

	// cause is why a request was sent, for the driver's Stats; it never
	// crosses the wire.
	cause Cause
}

// Cause says why the node sent request m (for counting RPCs, as the
// driver's Stats do); it is not part of the protocol and never crosses
// the wire.
func (m *Message) Cause() Cause { return m.cause }

// MaxTermOrIndex is the largest term or log index a node accepts, in a
// message or in its persisted state (decodeState refuses larger ones). A
// message with a larger one is malformed: accepting it would persist a
// state the node could not read back after a crash.
const MaxTermOrIndex = math.MaxInt32

// validate refuses a malformed message: an unknown kind, a sender or
// receiver outside the cluster, a negative term or index, or one beyond
// MaxTermOrIndex. Such a message may come from a buggy or hostile peer; it
// must not crash the node, or make it persist what it cannot read back.
func (m *Message) validate(n, me int) error {
	var bad []string
	if m.Kind <= 0 || m.Kind >= maxMsgKind {
		bad = append(bad, fmt.Sprintf("unknown kind %d", int(m.Kind)))
	}
	if m.From < 0 || m.From >= n || m.From == me {
		bad = append(bad, fmt.Sprintf("sender %d not a peer of n%d in a cluster of %d", m.From, me, n))
	}
	if m.Term < 0 || m.ReqTerm < 0 {
		bad = append(bad, "negative term")
	}
	if m.LastLogIndex < 0 || m.LastLogTerm < 0 || m.PrevLogIndex < 0 || m.PrevLogTerm < 0 ||
		m.LeaderCommit < 0 || m.LastIncludedIndex < 0 || m.LastIncludedTerm < 0 || m.MatchIndex < 0 ||
		m.ConflictIndex < 0 || m.ConflictTerm < NoConflictTerm {
		bad = append(bad, "negative index or term")
	}
	for _, v := range [...]int{m.Term, m.ReqTerm, m.LastLogIndex, m.LastLogTerm, m.PrevLogIndex, m.PrevLogTerm,
		m.LeaderCommit, m.LastIncludedIndex, m.LastIncludedTerm, m.MatchIndex, m.ConflictIndex, m.ConflictTerm} {
		if v > MaxTermOrIndex {
			bad = append(bad, fmt.Sprintf("term or index %d beyond %d", v, MaxTermOrIndex))
			break
		}
	}
	// A snapshot's last included entry has a term no later than the
	// leader's, and only index 0 (the empty prefix) has term 0.
	if m.Kind == MsgInstallSnapshot && (m.LastIncludedTerm > m.Term || (m.LastIncludedIndex == 0) != (m.LastIncludedTerm == 0)) {
		bad = append(bad, fmt.Sprintf("snapshot through %d/%d in term %d", m.LastIncludedIndex, m.LastIncludedTerm, m.Term))
	}
	for i, e := range m.Entries {
		if e.Term < 0 || e.Term > m.Term {
			bad = append(bad, fmt.Sprintf("entry %d has term %d outside [0, %d]", i, e.Term, m.Term))
			break
		}
	}
	if len(bad) > 0 {
		return errors.New("raft: malformed " + m.Kind.String() + ": " + strings.Join(bad, "; "))
	}
	return nil
}

// String describes m in one transcript line, e.g.
// "AppendEntries n1→n2 term 3 prev 5/2 entries 2 commit 4".
func (m *Message) String() string {
	var v [msgInts]int
	packMsg(v[:], m)
	return string(appendMsg(nil, v[:]))
}

// msgInts is how many integers packMsg writes.
const msgInts = 8

// packMsg writes what String shows of m into v[:msgInts]. The invariant
// hooks keep messages so, as values, and format them (appendMsg) only for
// the transcript of a violation.
func packMsg(v []int, m *Message) {
	v[0], v[1], v[2], v[3] = int(m.Kind), m.From, m.To, m.Term
	v[4], v[5], v[6], v[7] = 0, 0, 0, 0
	switch m.Kind {
	case MsgRequestVote:
		v[4], v[5] = m.LastLogIndex, m.LastLogTerm
	case MsgRequestVoteReply:
		v[4] = boolInt(m.VoteGranted)
	case MsgAppendEntries:
		v[4], v[5], v[6], v[7] = m.PrevLogIndex, m.PrevLogTerm, len(m.Entries), m.LeaderCommit
	case MsgAppendEntriesReply:
		v[4], v[5], v[6], v[7] = boolInt(m.Success), m.MatchIndex, m.ConflictTerm, m.ConflictIndex
	case MsgInstallSnapshot:
		v[4], v[5] = m.LastIncludedIndex, m.LastIncludedTerm
	case MsgInstallSnapshotReply:
		v[4] = m.MatchIndex
	}
}

// appendMsg appends the line of the message that packMsg wrote into v.
func appendMsg(b []byte, v []int) []byte {
	k := MsgKind(v[0])
	b = fmt.Appendf(b, "%v n%d→n%d term %d", k, v[1], v[2], v[3])
	switch k {
	case MsgRequestVote:
		b = fmt.Appendf(b, " last %d/%d", v[4], v[5])
	case MsgRequestVoteReply:
		b = fmt.Appendf(b, " granted %v", v[4] != 0)
	case MsgAppendEntries:
		b = fmt.Appendf(b, " prev %d/%d entries %d commit %d", v[4], v[5], v[6], v[7])
	case MsgAppendEntriesReply:
		if v[4] != 0 {
			b = fmt.Appendf(b, " ok match %d", v[5])
		} else {
			b = fmt.Appendf(b, " reject conflict %d@%d", v[6], v[7])
		}
	case MsgInstallSnapshot:
		b = fmt.Appendf(b, " snapshot %d/%d", v[4], v[5])
	case MsgInstallSnapshotReply:
		b = fmt.Appendf(b, " match %d", v[4])
	}
	return b
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
