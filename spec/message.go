package spec

import (
	"fmt"
	"slices"
)

// MsgType is the type of a message: raft.tla's mtype. Its names are the
// ones raft.MsgKind prints (the paper's RPC names, "Reply" for answers),
// not raft.tla's (RequestVoteRequest, RequestVoteResponse,
// AppendEntriesRequest, AppendEntriesResponse), so that a message reads
// the same in the core's transcript, the simulator's event log and a
// spec trace. raft.tla's action names (HandleAppendEntriesRequest, …)
// are kept: they name actions, not messages (docs/spec.md).
type MsgType uint8

const (
	MsgRequestVote        MsgType = iota // raft.tla: RequestVoteRequest
	MsgRequestVoteReply                  // raft.tla: RequestVoteResponse
	MsgAppendEntries                     // raft.tla: AppendEntriesRequest
	MsgAppendEntriesReply                // raft.tla: AppendEntriesResponse
)

var msgTypeNames = [...]string{"RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply"}

func (t MsgType) String() string {
	if int(t) < len(msgTypeNames) {
		return msgTypeNames[t]
	}
	return "MsgType(?)"
}

// Msg is one message, the union of raft.tla's four records. Fields that
// a type does not use are zero.
type Msg struct {
	Type     MsgType
	Term     uint8
	Src, Dst uint8

	// RequestVote
	LastLogTerm, LastLogIndex uint8
	// RequestVoteReply
	VoteGranted bool

	// AppendEntries: at most one entry, as in raft.tla.
	PrevLogIndex, PrevLogTerm uint8
	HasEntry                  bool
	Entry                     Entry
	CommitIndex               uint8

	// AppendEntriesReply; ConflictTerm (0 = none) and ConflictIndex are
	// the fast-backup hint, set only when Config.FastBackup is on.
	Success                     bool
	MatchIndex                  uint8
	ConflictTerm, ConflictIndex uint8
}

// Packed is a message in 64 bits, with its copy count in the low 4 bits:
//
//	63..60 type  59..56 term  55..53 src  52..50 dst
//	49..46 f1  45..42 f2  41..38 f3  37..34 f4  33..30 f5  29 flag
//	3..0 count
//
// Sorting packed messages sorts the bag canonically.
type Packed uint64

const countMask = 0xf

func (p Packed) Count() int     { return int(p & countMask) }
func (p Packed) key() Packed    { return p &^ countMask }
func (p Packed) Type() MsgType  { return MsgType(p >> 60) }
func (p Packed) Src() uint8     { return uint8(p>>53) & 7 }
func (p Packed) Dst() uint8     { return uint8(p>>50) & 7 }
func (p Packed) Term() uint8    { return uint8(p>>56) & 0xf }
func f(p Packed, k uint) uint8  { return uint8(p>>(46-4*k)) & 0xf }
func pf(v uint8, k uint) Packed { return Packed(v&0xf) << (46 - 4*k) }

// withEnds returns p with source and destination replaced.
func (p Packed) withEnds(src, dst uint8) Packed {
	return p&^(0x3f<<50) | Packed(src&7)<<53 | Packed(dst&7)<<50
}

// Pack packs m (count 0).
func (m *Msg) Pack() Packed {
	p := Packed(m.Type)<<60 | Packed(m.Term&0xf)<<56 | Packed(m.Src&7)<<53 | Packed(m.Dst&7)<<50
	flag := false
	switch m.Type {
	case MsgRequestVote:
		p |= pf(m.LastLogTerm, 0) | pf(m.LastLogIndex, 1)
	case MsgRequestVoteReply:
		flag = m.VoteGranted
	case MsgAppendEntries:
		p |= pf(m.PrevLogIndex, 0) | pf(m.PrevLogTerm, 1) | pf(m.Entry.Term, 2) | pf(m.Entry.Value, 3) | pf(m.CommitIndex, 4)
		flag = m.HasEntry
	case MsgAppendEntriesReply:
		p |= pf(m.MatchIndex, 0) | pf(m.ConflictTerm, 1) | pf(m.ConflictIndex, 2)
		flag = m.Success
	}
	if flag {
		p |= 1 << 29
	}
	return p
}

// Unpack returns the message p holds.
func (p Packed) Unpack() Msg {
	m := Msg{Type: p.Type(), Term: p.Term(), Src: p.Src(), Dst: p.Dst()}
	flag := p&(1<<29) != 0
	switch m.Type {
	case MsgRequestVote:
		m.LastLogTerm, m.LastLogIndex = f(p, 0), f(p, 1)
	case MsgRequestVoteReply:
		m.VoteGranted = flag
	case MsgAppendEntries:
		m.PrevLogIndex, m.PrevLogTerm, m.CommitIndex = f(p, 0), f(p, 1), f(p, 4)
		m.HasEntry = flag
		if flag {
			m.Entry = Entry{f(p, 2), f(p, 3)}
		}
	case MsgAppendEntriesReply:
		m.MatchIndex, m.ConflictTerm, m.ConflictIndex = f(p, 0), f(p, 1), f(p, 2)
		m.Success = flag
	}
	return m
}

// String describes m in one transcript line, servers named n0..n(n-1).
func (m Msg) String() string {
	h := fmt.Sprintf("%s n%d→n%d term %d", m.Type, m.Src, m.Dst, m.Term)
	switch m.Type {
	case MsgRequestVote:
		return fmt.Sprintf("%s lastLog %d/%d", h, m.LastLogIndex, m.LastLogTerm)
	case MsgRequestVoteReply:
		return fmt.Sprintf("%s granted %v", h, m.VoteGranted)
	case MsgAppendEntries:
		e := "[]"
		if m.HasEntry {
			e = fmt.Sprintf("[%d:v%d]", m.Entry.Term, m.Entry.Value)
		}
		return fmt.Sprintf("%s prev %d/%d entries %s commit %d", h, m.PrevLogIndex, m.PrevLogTerm, e, m.CommitIndex)
	case MsgAppendEntriesReply:
		s := fmt.Sprintf("%s success %v match %d", h, m.Success, m.MatchIndex)
		if m.ConflictTerm != 0 || m.ConflictIndex != 0 {
			s += fmt.Sprintf(" conflict %d@%d", m.ConflictTerm, m.ConflictIndex)
		}
		return s
	}
	return h
}

// find returns the position of key k in the bag, or where it would go.
func (s *State) find(k Packed) (int, bool) {
	lo, hi := 0, int(s.NMsgs)
	for lo < hi {
		mid := (lo + hi) / 2
		if s.Msgs[mid].key() < k {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return lo, lo < int(s.NMsgs) && s.Msgs[lo].key() == k
}

// count is the number of copies of k in the bag.
func (s *State) count(k Packed) int {
	if i, ok := s.find(k); ok {
		return s.Msgs[i].Count()
	}
	return 0
}

// send adds one copy of k to the bag (raft.tla: WithMessage). It reports
// false when the bag has no room for another distinct message.
func (s *State) send(k Packed) bool {
	i, ok := s.find(k)
	if ok {
		s.Msgs[i]++
		return true
	}
	if int(s.NMsgs) == MaxBag {
		return false
	}
	copy(s.Msgs[i+1:s.NMsgs+1], s.Msgs[i:s.NMsgs])
	s.Msgs[i] = k | 1
	s.NMsgs++
	return true
}

// discard removes one copy of k from the bag (raft.tla: WithoutMessage).
// raft.tla keeps messages with count 0 in its function's domain; here they
// are removed, so a state is its multiset (see docs/spec.md).
func (s *State) discard(k Packed) {
	i, ok := s.find(k)
	if !ok {
		return
	}
	if s.Msgs[i].Count() > 1 {
		s.Msgs[i]--
		return
	}
	copy(s.Msgs[i:], s.Msgs[i+1:s.NMsgs])
	s.NMsgs--
	s.Msgs[s.NMsgs] = 0
}

// sortBag restores the bag's order after servers were renamed. It runs in
// Encode's inner loop, so it must not allocate (sort.Slice did: it boxes
// the slice). A renaming changes only sources and destinations, which sort
// below type and term, so the bag comes in nearly sorted: insertion sort
// is the faster below 12 messages, and faster still on a typical bag of
// any size, but quadratic when five servers are renamed in reverse;
// slices.Sort bounds that case (BenchmarkSortBag).
func sortBag(b []Packed) {
	if len(b) < 12 {
		insertionSort(b)
		return
	}
	slices.Sort(b)
}

func insertionSort(b []Packed) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j] < b[j-1]; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}
