package spec

// Apply runs action a from s and writes the successor to t, as Next
// would yield it; false if a is not enabled in s (t is then to be
// ignored). An action on a message requires the message in the bag. It
// is for callers that replay or search actions one by one, such as trace
// validation.
func (p *Spec) Apply(s, t *State, a Action) bool {
	i, j := int(a.I), int(a.J)
	m := a.Msg.key()
	switch a.Kind {
	case ActTimeout:
		return p.Timeout(s, t, i)
	case ActRestart:
		return p.Restart(s, t, i)
	case ActRequestVote:
		return p.RequestVote(s, t, i, j)
	case ActBecomeLeader:
		return p.BecomeLeader(s, t, i)
	case ActClientRequest:
		return p.ClientRequest(s, t, i, a.V)
	case ActAdvanceCommitIndex:
		return p.AdvanceCommitIndex(s, t, i)
	case ActAppendEntries:
		return p.AppendEntries(s, t, i, j)
	}
	c := s.count(m)
	if c == 0 {
		return false
	}
	ok := false
	switch a.Kind {
	case ActUpdateTerm:
		ok = p.UpdateTerm(s, t, m)
	case ActDropStaleResponse:
		ok = p.DropStaleResponse(s, t, m)
	case ActDuplicateMessage:
		ok = p.DuplicateMessage(s, t, m|Packed(c))
	case ActDropMessage:
		ok = p.DropMessage(s, t, m)
	default:
		// The other handlers assume Receive chose them.
		var kind ActionKind
		kind, ok = p.Receive(s, t, m)
		ok = ok && kind == a.Kind
	}
	return ok && t.NMsgs <= MaxBag
}

// Add puts one copy of m in the bag (raft.tla: WithMessage); false if the
// bag has no room for another distinct message.
func (s *State) Add(m Packed) bool { return s.send(m.key()) }

// Count is the number of copies of m in the bag.
func (s *State) Count(m Packed) int { return s.count(m.key()) }
