package spec

// Message handlers: raft.tla's Receive(m) and what it dispatches to. i is
// the recipient, j the sender. For any message exactly one handler is
// enabled, or none (the message waits).

// ActionKind names an action of raft.tla.
type ActionKind uint8

const (
	ActTimeout ActionKind = iota
	ActRestart
	ActRequestVote
	ActBecomeLeader
	ActClientRequest
	ActAdvanceCommitIndex
	ActAppendEntries
	ActUpdateTerm
	ActHandleRequestVoteRequest
	ActHandleRequestVoteResponse
	ActHandleAppendEntriesRequest
	ActHandleAppendEntriesResponse
	ActDropStaleResponse
	ActDuplicateMessage
	ActDropMessage
)

var actionNames = [...]string{"Timeout", "Restart", "RequestVote", "BecomeLeader", "ClientRequest",
	"AdvanceCommitIndex", "AppendEntries", "UpdateTerm", "HandleRequestVoteRequest",
	"HandleRequestVoteResponse", "HandleAppendEntriesRequest", "HandleAppendEntriesResponse",
	"DropStaleResponse", "DuplicateMessage", "DropMessage"}

func (k ActionKind) String() string {
	if int(k) < len(actionNames) {
		return actionNames[k]
	}
	return "ActionKind(?)"
}

// Receive: the recipient of m handles it. Returns the handler that ran.
// raft.tla: Receive.
func (p *Spec) Receive(s, t *State, m Packed) (ActionKind, bool) {
	i := int(m.Dst())
	sv := &s.Servers[i]
	switch {
	case m.Term() > sv.CurrentTerm:
		return ActUpdateTerm, p.UpdateTerm(s, t, m)
	case m.Type() == MsgRequestVote:
		return ActHandleRequestVoteRequest, p.HandleRequestVoteRequest(s, t, m)
	case m.Type() == MsgAppendEntries:
		return ActHandleAppendEntriesRequest, p.HandleAppendEntriesRequest(s, t, m)
	case m.Term() < sv.CurrentTerm:
		return ActDropStaleResponse, p.DropStaleResponse(s, t, m)
	case m.Type() == MsgRequestVoteReply:
		return ActHandleRequestVoteResponse, p.HandleRequestVoteResponse(s, t, m)
	default:
		return ActHandleAppendEntriesResponse, p.HandleAppendEntriesResponse(s, t, m)
	}
}

// UpdateTerm: a message with a newer term makes the recipient a follower
// in that term; the message stays, to be handled next.
// raft.tla: UpdateTerm; §5.1.
func (p *Spec) UpdateTerm(s, t *State, m Packed) bool {
	i := m.Dst()
	if m.Term() <= s.Servers[i].CurrentTerm {
		return false
	}
	*t = *s
	sv := &t.Servers[i]
	sv.CurrentTerm = m.Term()
	sv.State = Follower
	sv.VotedFor = Nil
	return true
}

// DropStaleResponse: a response from an older term is discarded.
// raft.tla: DropStaleResponse.
func (p *Spec) DropStaleResponse(s, t *State, m Packed) bool {
	if m.Term() >= s.Servers[m.Dst()].CurrentTerm {
		return false
	}
	*t = *s
	t.discard(m.key())
	return true
}

// HandleRequestVoteRequest: i grants j its vote if the terms match, i has
// not voted for another, and j's log is at least as up-to-date as i's.
// raft.tla: HandleRequestVoteRequest; §5.2, §5.4.1.
func (p *Spec) HandleRequestVoteRequest(s, t *State, m Packed) bool {
	i, j := m.Dst(), m.Src()
	sv := &s.Servers[i]
	if m.Term() > sv.CurrentTerm {
		return false
	}
	rq := m.Unpack()
	logOK := rq.LastLogTerm > sv.LastTerm() ||
		rq.LastLogTerm == sv.LastTerm() && rq.LastLogIndex >= sv.LogLen
	if p.cfg.Bug == BugVoteNoUpToDate {
		logOK = true // planted: no up-to-date check
	}
	grant := rq.Term == sv.CurrentTerm && logOK && (sv.VotedFor == Nil || sv.VotedFor == j)
	resp := Msg{Type: MsgRequestVoteReply, Term: sv.CurrentTerm, Src: i, Dst: j, VoteGranted: grant}
	if !p.reply(s, t, &resp, m.key()) {
		return false
	}
	if grant {
		t.Servers[i].VotedFor = j
	}
	return true
}

// HandleRequestVoteResponse: candidate i tallies j's answer in its term.
// raft.tla: HandleRequestVoteResponse; §5.2.
func (p *Spec) HandleRequestVoteResponse(s, t *State, m Packed) bool {
	i, j := m.Dst(), m.Src()
	if m.Term() != s.Servers[i].CurrentTerm {
		return false
	}
	*t = *s
	sv := &t.Servers[i]
	sv.VotesResponded |= 1 << j
	if m.Unpack().VoteGranted {
		sv.VotesGranted |= 1 << j
	}
	t.discard(m.key())
	return true
}

// HandleAppendEntriesRequest: i handles leader j's request: reject it,
// step down from candidate, or accept it (already done, remove a
// conflicting entry, or append the entry).
// raft.tla: HandleAppendEntriesRequest; §5.3, Figure 2.
//
// Deviation from raft.tla: an accepted request raises commitIndex to
// m.commitIndex but never lowers it (Figure 2: "if leaderCommit >
// commitIndex"). raft.tla assigns it, so a late duplicate can lower it.
func (p *Spec) HandleAppendEntriesRequest(s, t *State, m Packed) bool {
	i, j := m.Dst(), m.Src()
	sv := &s.Servers[i]
	if m.Term() > sv.CurrentTerm {
		return false
	}
	rq := m.Unpack()
	prev := rq.PrevLogIndex
	logOK := prev == 0 || prev <= sv.LogLen && rq.PrevLogTerm == sv.Log[prev-1].Term
	if p.cfg.Bug == BugNoPrevLogCheck {
		logOK = prev <= sv.LogLen // planted: the term at prevLogIndex is not compared
	}
	switch {
	case rq.Term < sv.CurrentTerm || sv.State == Follower && !logOK:
		resp := Msg{Type: MsgAppendEntriesReply, Term: sv.CurrentTerm, Src: i, Dst: j}
		if p.cfg.FastBackup && rq.Term == sv.CurrentTerm {
			resp.ConflictTerm, resp.ConflictIndex = conflictHint(sv, prev)
		}
		return p.reply(s, t, &resp, m.key())
	case sv.State == Candidate:
		// Same term: a leader exists, so return to follower; the request
		// stays, to be handled as a follower.
		*t = *s
		t.Servers[i].State = Follower
		return true
	case sv.State == Leader:
		return false // two leaders in one term: ElectionSafety reports it
	}
	index := prev + 1
	switch {
	case !rq.HasEntry || sv.LogLen >= index && sv.Log[index-1].Term == rq.Entry.Term:
		// Already done with the request.
		match := prev
		if rq.HasEntry {
			match++
		}
		resp := Msg{Type: MsgAppendEntriesReply, Term: sv.CurrentTerm, Src: i, Dst: j, Success: true, MatchIndex: match}
		if !p.reply(s, t, &resp, m.key()) {
			return false
		}
		if rq.CommitIndex > sv.CommitIndex {
			p.setCommit(t, int(i), rq.CommitIndex)
		}
		return true
	case sv.LogLen >= index:
		// Conflict: remove one entry (raft.tla removes the last one; the
		// request stays, to be handled again).
		*t = *s
		nv := &t.Servers[i]
		nv.LogLen--
		nv.Log[nv.LogLen] = Entry{}
		return true
	case sv.LogLen == prev:
		// No conflict: append the entry; the request stays, and is then
		// "already done".
		*t = *s
		nv := &t.Servers[i]
		nv.Log[nv.LogLen] = rq.Entry
		nv.LogLen++
		return true
	}
	return false
}

// conflictHint is the fast-backup hint of a follower that cannot accept
// prevLogIndex: no term and its log length + 1 if its log is too short,
// else the term it holds at prevLogIndex and the first index of that term.
func conflictHint(sv *Server, prev uint8) (term, index uint8) {
	if prev > sv.LogLen {
		return 0, sv.LogLen + 1
	}
	term = sv.Log[prev-1].Term
	index = prev
	for index > 1 && sv.Log[index-2].Term == term {
		index--
	}
	return term, index
}

// HandleAppendEntriesResponse: leader i records j's answer in its term:
// on success its matchIndex and nextIndex, on failure a lower nextIndex
// (one less, or from the fast-backup hint).
// raft.tla: HandleAppendEntriesResponse; §5.3.
func (p *Spec) HandleAppendEntriesResponse(s, t *State, m Packed) bool {
	i, j := m.Dst(), m.Src()
	if m.Term() != s.Servers[i].CurrentTerm {
		return false
	}
	rs := m.Unpack()
	*t = *s
	sv := &t.Servers[i]
	switch {
	case rs.Success:
		sv.NextIndex[j] = rs.MatchIndex + 1
		sv.MatchIndex[j] = rs.MatchIndex
	case p.cfg.FastBackup && rs.ConflictIndex > 0:
		next := rs.ConflictIndex
		if rs.ConflictTerm != 0 {
			for k := sv.LogLen; k >= 1; k-- {
				if sv.Log[k-1].Term == rs.ConflictTerm {
					next = k + 1 // one past the leader's last entry of that term
					break
				}
			}
		}
		if p.cfg.Bug == BugFastBackupSkip {
			// Planted: jump past the conflicting entries and take the
			// follower to hold everything before them.
			if next <= sv.LogLen {
				next = sv.LogLen + 1
			}
			sv.MatchIndex[j] = next - 1
		}
		sv.NextIndex[j] = max(next, 1)
	default:
		sv.NextIndex[j] = max(sv.NextIndex[j]-1, 1)
	}
	t.discard(m.key())
	return true
}

// DuplicateMessage: the network delivers m twice. raft.tla: DuplicateMessage.
func (p *Spec) DuplicateMessage(s, t *State, m Packed) bool {
	if !p.cfg.Duplicate || m.Count() >= p.cfg.MaxCopies {
		return false
	}
	*t = *s
	t.send(m.key())
	return true
}

// DropMessage: the network loses m. raft.tla: DropMessage.
func (p *Spec) DropMessage(s, t *State, m Packed) bool {
	if !p.cfg.Drop {
		return false
	}
	*t = *s
	t.discard(m.key())
	return true
}
