package spec

// The actions of raft.tla, one function each. Every action reads the state
// s and, when it is enabled, writes the successor to t and returns true; a
// disabled action returns false, and t is then to be ignored.
// The bounds of Config disable actions that would leave the bounded space:
// a term past MaxTerm, a log past MaxLog, more than MaxCopies of a
// message, a request on a link already holding MaxInFlight messages.

// Spec is the protocol under one Config.
type Spec struct {
	cfg Config
	n   int
}

// NewSpec returns the protocol under cfg, after validating it.
func NewSpec(cfg Config) (*Spec, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Spec{cfg: cfg, n: cfg.Servers}, nil
}

// Config returns the configuration, with defaults filled in.
func (p *Spec) Config() Config { return p.cfg }

// Init is raft.tla's Init.
func (p *Spec) Init() State { return initState(p.n) }

func (p *Spec) quorum(set uint8) bool {
	c := 0
	for ; set != 0; set &= set - 1 {
		c++
	}
	return 2*c > p.n
}

// canSend reports whether one more copy of k fits the bounds.
func (p *Spec) canSend(s *State, k Packed) bool {
	return s.count(k) < p.cfg.MaxCopies
}

// reply sends resp and consumes req (raft.tla: Reply).
func (p *Spec) reply(s, t *State, resp *Msg, req Packed) bool {
	k := resp.Pack()
	if !p.canSend(s, k) {
		return false
	}
	*t = *s
	t.discard(req)
	return t.send(k) || t.overflow()
}

// overflow marks t as having outgrown MaxBag; Next reports it as an error.
func (t *State) overflow() bool {
	t.NMsgs = MaxBag + 1
	return true
}

// Restart: server i crashes and restarts from stable storage, keeping
// currentTerm, votedFor and log and losing everything else.
// raft.tla: Restart; Figure 2 (persistent state).
func (p *Spec) Restart(s, t *State, i int) bool {
	if !p.cfg.Restart {
		return false
	}
	*t = *s
	sv := &t.Servers[i]
	sv.State = Follower
	sv.VotesResponded, sv.VotesGranted = 0, 0
	for j := 0; j < p.n; j++ {
		sv.NextIndex[j], sv.MatchIndex[j] = 1, 0
	}
	sv.CommitIndex = 0
	if p.cfg.Bug == BugForgetVote {
		sv.VotedFor = Nil // planted: votedFor was not persisted
	}
	return *t != *s
}

// Timeout: server i times out and starts an election in the next term.
// raft.tla: Timeout; §5.2.
func (p *Spec) Timeout(s, t *State, i int) bool {
	sv := &s.Servers[i]
	if sv.State == Leader || int(sv.CurrentTerm) >= p.cfg.MaxTerm {
		return false
	}
	*t = *s
	nv := &t.Servers[i]
	nv.State = Candidate
	nv.CurrentTerm++
	if p.cfg.SelfVoteMessage {
		// raft.tla: the candidate's vote for itself is a RequestVote to
		// itself, which may be handled late, or after a vote for another.
		nv.VotedFor = Nil
		nv.VotesResponded, nv.VotesGranted = 0, 0
		return true
	}
	// Deviation from raft.tla, as the reference core's campaign: vote for
	// oneself in the same step (Figure 2: "increment currentTerm, vote for
	// self"). RequestVote(i, i) is then disabled, i having responded.
	nv.VotedFor = uint8(i)
	nv.VotesResponded, nv.VotesGranted = 1<<i, 1<<i
	return true
}

// RequestVote: candidate i sends j (possibly itself) a RequestVote request.
// raft.tla: RequestVote; §5.2.
func (p *Spec) RequestVote(s, t *State, i, j int) bool {
	sv := &s.Servers[i]
	if sv.State != Candidate || sv.VotesResponded&(1<<j) != 0 {
		return false
	}
	m := Msg{Type: MsgRequestVote, Term: sv.CurrentTerm, Src: uint8(i), Dst: uint8(j),
		LastLogTerm: sv.LastTerm(), LastLogIndex: sv.LogLen}
	return p.request(s, t, &m)
}

// request sends a new request m, within the bounds: MaxCopies of the
// message, and MaxInFlight messages between its two ends.
func (p *Spec) request(s, t *State, m *Msg) bool {
	k := m.Pack()
	if !p.canSend(s, k) || p.cfg.MaxInFlight > 0 && s.between(m.Src, m.Dst) >= p.cfg.MaxInFlight {
		return false
	}
	*t = *s
	return t.send(k) || t.overflow()
}

// between counts the messages in the bag between i and j, either way,
// copies included.
func (s *State) between(i, j uint8) int {
	c := 0
	for _, m := range s.Msgs[:s.NMsgs] {
		if src, dst := m.Src(), m.Dst(); src == i && dst == j || src == j && dst == i {
			c += m.Count()
		}
	}
	return c
}

// AppendEntries: leader i sends j an AppendEntries request with at most one
// entry. raft.tla: AppendEntries; §5.3.
func (p *Spec) AppendEntries(s, t *State, i, j int) bool {
	sv := &s.Servers[i]
	if i == j || sv.State != Leader {
		return false
	}
	next := sv.NextIndex[j]
	m := Msg{Type: MsgAppendEntries, Term: sv.CurrentTerm, Src: uint8(i), Dst: uint8(j),
		PrevLogIndex: next - 1}
	if next > 1 && next-1 <= sv.LogLen {
		m.PrevLogTerm = sv.Log[next-2].Term
	}
	last := sv.LogLen // lastEntry = Min(Len(log), nextIndex)
	if next < last {
		last = next
	}
	if next >= 1 && next <= sv.LogLen {
		m.HasEntry = true
		m.Entry = sv.Log[next-1]
	}
	m.CommitIndex = min(sv.CommitIndex, last)
	return p.request(s, t, &m)
}

// BecomeLeader: candidate i, holding votes from a quorum, becomes leader.
// raft.tla: BecomeLeader; §5.2.
func (p *Spec) BecomeLeader(s, t *State, i int) bool {
	sv := &s.Servers[i]
	if sv.State != Candidate || !p.quorum(sv.VotesGranted) {
		return false
	}
	*t = *s
	nv := &t.Servers[i]
	nv.State = Leader
	for j := 0; j < p.n; j++ {
		nv.NextIndex[j] = nv.LogLen + 1
		nv.MatchIndex[j] = 0
	}
	if !p.cfg.NoHistory {
		t.LeadersIn[nv.CurrentTerm] |= 1 << i // raft.tla: elections
	}
	return true
}

// ClientRequest: leader i appends value v to its log.
// raft.tla: ClientRequest; §5.3.
func (p *Spec) ClientRequest(s, t *State, i int, v uint8) bool {
	sv := &s.Servers[i]
	if sv.State != Leader || int(sv.LogLen) >= p.cfg.MaxLog {
		return false
	}
	*t = *s
	nv := &t.Servers[i]
	nv.Log[nv.LogLen] = Entry{Term: nv.CurrentTerm, Value: v}
	nv.LogLen++
	return true
}

// AdvanceCommitIndex: leader i commits the highest index a quorum holds,
// if that entry is of its current term. raft.tla: AdvanceCommitIndex;
// §5.3, §5.4.2 (Figure 8: only current-term entries are committed by
// counting replicas).
//
// Deviation from raft.tla: commitIndex never decreases here. raft.tla
// assigns the quorum index even when it is lower (matchIndex may go down
// when an old response arrives late), which breaks the local property
// "commitIndex never decreases" without affecting safety.
func (p *Spec) AdvanceCommitIndex(s, t *State, i int) bool {
	sv := &s.Servers[i]
	if sv.State != Leader {
		return false
	}
	newCommit := sv.CommitIndex
	for idx := sv.LogLen; idx > sv.CommitIndex; idx-- {
		agree := uint8(1 << i)
		for k := 0; k < p.n; k++ {
			if sv.MatchIndex[k] >= idx {
				agree |= 1 << k
			}
		}
		if p.quorum(agree) {
			if sv.Log[idx-1].Term == sv.CurrentTerm || p.cfg.Bug == BugFigure8 {
				newCommit = idx
			}
			break // raft.tla looks only at the highest agreed index
		}
	}
	if newCommit == sv.CommitIndex {
		return false // a stuttering step: nothing changes
	}
	*t = *s
	p.setCommit(t, i, newCommit)
	return true
}

// setCommit raises server i's commitIndex and records newly committed
// entries in the history, with the term in which they were committed.
func (p *Spec) setCommit(t *State, i int, c uint8) {
	sv := &t.Servers[i]
	sv.CommitIndex = c
	if p.cfg.NoHistory {
		return
	}
	for k := t.NCommitted; k < c; k++ {
		t.Committed[k] = CommittedEntry{Entry: sv.Log[k], InTerm: sv.CurrentTerm}
		t.NCommitted = k + 1
	}
}
