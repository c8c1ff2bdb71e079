package raft

// The handlers of the core: election (§5.2, §5.4.1), log replication
// (§5.3, §5.4.2) and snapshots (§7). Each runs inside Step, after the term
// of the message was handled.

// ---- Election ----

// handleRequestVote grants a vote to a candidate of the current term if
// this node has not voted for another in the term and the candidate's log
// is at least as up-to-date as its own (Figure 2, RequestVote RPC,
// receiver implementation; §5.2, §5.4.1). The election timer restarts only
// when the vote is granted (raft-bugs.md M3).
func (r *node) handleRequestVote(m *Message) {
	grant := m.Term == r.currentTerm &&
		(r.votedFor == None || r.votedFor == m.From) &&
		r.upToDate(m.LastLogIndex, m.LastLogTerm)
	if grant {
		if r.votedFor != m.From {
			r.votedFor = m.From
			r.dirty = true
		}
		r.electionElapsed = 0
	}
	r.send(Message{Kind: MsgRequestVoteReply, To: m.From, Term: r.currentTerm, VoteGranted: grant, ReqTerm: m.Term})
}

// upToDate is the election restriction (§5.4.1): "If the logs have last
// entries with different terms, then the log with the later term is more
// up-to-date. If the logs end with the same term, then whichever log is
// longer is more up-to-date." Comparing lengths alone is wrong (M7).
func (r *node) upToDate(lastIndex, lastTerm int) bool {
	if t := r.log.lastTerm(); lastTerm != t {
		return lastTerm > t
	}
	return lastIndex >= r.log.lastIndex()
}

// handleVoteResponse counts a granted vote; a majority makes a leader
// (§5.2). Step has already dropped replies of other terms.
func (r *node) handleVoteResponse(m *Message) {
	if !m.VoteGranted {
		return
	}
	r.votes[m.From] = true
	if r.quorum(r.votes) {
		r.becomeLeader()
	}
}

// ---- Replication ----

// sendAppend sends peer p the entries from nextIndex[p] on, or the
// snapshot if they were compacted away (§7); why is for the driver's
// Stats.
func (r *node) sendAppend(p int, why Cause) {
	r.inflight[p] = true
	r.heartbeatElapsed[p] = 0
	next := r.nextIndex[p]
	if next <= r.log.base {
		r.send(Message{Kind: MsgInstallSnapshot, To: p, Term: r.currentTerm,
			LastIncludedIndex: r.log.base, LastIncludedTerm: r.log.baseTerm, Data: r.snapshot, cause: why})
		return
	}
	prevTerm, _ := r.log.term(next - 1)
	r.send(Message{Kind: MsgAppendEntries, To: p, Term: r.currentTerm,
		PrevLogIndex: next - 1, PrevLogTerm: prevTerm,
		Entries: r.log.from(next), LeaderCommit: r.commitIndex, cause: why})
}

// handleAppendEntries is Figure 2's AppendEntries receiver implementation.
func (r *node) handleAppendEntries(m *Message) {
	reply := Message{Kind: MsgAppendEntriesReply, To: m.From, Term: r.currentTerm, ReqTerm: m.Term}
	// 1. Reply false if term < currentTerm (§5.1).
	if m.Term < r.currentTerm {
		r.send(reply)
		return
	}
	// m.From leads this term (§5.2): a candidate steps down, and the
	// election timer restarts.
	if r.role != follower {
		r.becomeFollower(m.Term)
	}
	r.electionElapsed, r.lead = 0, m.From

	// Entries through the base are committed and in the snapshot; the
	// leader holds the same ones (Leader Completeness). Skip them.
	prev, prevTerm, entries := r.log.afterBase(m.PrevLogIndex, m.PrevLogTerm, m.Entries)
	// 2. Reply false if log doesn't contain an entry at prevLogIndex whose
	// term matches prevLogTerm (§5.3), with the fast-backup hint: the
	// conflicting term and the first index this log holds for it, or, if
	// the log is too short, NoConflictTerm and one past its end.
	if prev > r.log.lastIndex() {
		reply.ConflictTerm, reply.ConflictIndex = NoConflictTerm, r.log.lastIndex()+1
		r.send(reply)
		return
	}
	if t, _ := r.log.term(prev); t != prevTerm {
		reply.ConflictTerm, reply.ConflictIndex = t, r.log.firstIndexOf(t, prev)
		r.send(reply)
		return
	}
	// 3. If an existing entry conflicts with a new one (same index but
	// different terms), delete the existing entry and all that follow it.
	// 4. Append any new entries not already in the log.
	// Only a real conflict truncates: a stale or reordered AppendEntries
	// whose entries all match must not take back entries that follow them
	// (raft-bugs.md M2).
	for k, e := range entries {
		i := prev + 1 + k
		if t, ok := r.log.term(i); ok {
			if t == e.Term {
				continue
			}
			r.log.truncate(i)
		}
		r.log.append(entries[k:]...)
		r.dirty = true
		break
	}
	// 5. If leaderCommit > commitIndex, set commitIndex =
	// min(leaderCommit, index of last new entry). The index of the last new
	// entry, not the end of the log: what follows may not match the
	// leader's (M6). commitIndex never decreases.
	lastNew := max(m.PrevLogIndex+len(m.Entries), r.log.base)
	if c := min(m.LeaderCommit, lastNew); c > r.commitIndex {
		r.commitIndex = c
	}
	reply.Success, reply.MatchIndex = true, lastNew
	r.send(reply)
}

// handleAppendResponse is Figure 2's rules for leaders on an AppendEntries
// reply of the current term.
func (r *node) handleAppendResponse(m *Message) {
	p := m.From
	r.inflight[p] = false
	if m.Success {
		// "If successful: update nextIndex and matchIndex for follower
		// (§5.3)", from what the request carried, never from the leader's
		// state now (M10); matchIndex never decreases.
		r.matchIndex[p] = max(r.matchIndex[p], m.MatchIndex)
		r.nextIndex[p] = max(r.nextIndex[p], r.matchIndex[p]+1)
		r.maybeCommit()
	} else {
		// "If AppendEntries fails because of log inconsistency: decrement
		// nextIndex and retry (§5.3)", by a whole term at a time: to one
		// past the leader's last entry of ConflictTerm if it has one, else
		// to ConflictIndex. Never below what is known to match.
		next := m.ConflictIndex
		if m.ConflictTerm != NoConflictTerm {
			if last := r.log.lastIndexOf(m.ConflictTerm); last > 0 {
				next = last + 1
			}
		}
		r.nextIndex[p] = min(max(next, r.matchIndex[p]+1, 1), r.log.lastIndex()+1)
	}
	switch {
	case !m.Success:
		r.sendAppend(p, CauseBackup)
	case r.nextIndex[p] <= r.log.lastIndex():
		r.sendAppend(p, CauseCatchUp)
	}
}

// maybeCommit advances commitIndex to the highest index stored on a
// majority, if that entry is of the current term (Figure 2: "If there
// exists an N such that N > commitIndex, a majority of matchIndex[i] ≥ N,
// and log[N].term == currentTerm: set commitIndex = N"). Entries of earlier
// terms are never committed by counting replicas (§5.4.2, Figure 8; M9):
// they commit indirectly, with the first entry of the leader's own term.
func (r *node) maybeCommit() bool {
	// The majority index is the (n/2+1)-th largest matchIndex. Terms
	// never decrease along the log, so if its term is not currentTerm, no
	// smaller index has currentTerm either.
	m := append(r.scratch[:0], r.matchIndex...)
	for i := 1; i < len(m); i++ { // insertion sort, descending: n is tiny
		for j := i; j > 0 && m[j] > m[j-1]; j-- {
			m[j], m[j-1] = m[j-1], m[j]
		}
	}
	n := m[r.n/2]
	if n <= r.commitIndex {
		return false
	}
	if t, _ := r.log.term(n); t != r.currentTerm {
		return false
	}
	r.commitIndex = n
	return true
}

// ---- Snapshots ----

// handleInstallSnapshot is §7's InstallSnapshot receiver, with the whole
// snapshot in one message.
//
// A snapshot through no more than commitIndex is stale: this node holds
// that committed prefix already, and its service may have applied past
// it. It changes nothing, and the reply still tells the leader that the
// logs match through the snapshot's index (committed entries are the
// leader's, by Leader Completeness).
//
// Otherwise the snapshot covers entries not known committed here. The log
// keeps what follows the snapshot's last entry if it holds that entry
// (same index and term: Log Matching makes the rest the leader's too, and
// the leader may have counted them as replicated here), and is discarded
// otherwise (restoreBase). commitIndex rises to the snapshot's index. As
// lastApplied <= commitIndex < that index, the snapshot moves the service
// forward when nextApply hands it out: neither commitIndex nor lastApplied
// ever moves backwards (raft-bugs.md M19).
func (r *node) handleInstallSnapshot(m *Message) {
	reply := Message{Kind: MsgInstallSnapshotReply, To: m.From, Term: r.currentTerm, ReqTerm: m.Term}
	if m.Term < r.currentTerm {
		r.send(reply)
		return
	}
	if r.role != follower {
		r.becomeFollower(m.Term)
	}
	r.electionElapsed, r.lead = 0, m.From
	if m.LastIncludedIndex > r.commitIndex {
		r.log.restoreBase(m.LastIncludedIndex, m.LastIncludedTerm)
		r.snapshot = m.Data
		r.commitIndex = m.LastIncludedIndex // more than before: never backwards
		r.dirty = true                      // saved with the state before the reply, and before the service sees it
	}
	reply.MatchIndex = m.LastIncludedIndex
	r.send(reply)
}

// handleSnapshotResponse: the follower now matches through the snapshot.
func (r *node) handleSnapshotResponse(m *Message) {
	p := m.From
	r.inflight[p] = false
	r.matchIndex[p] = max(r.matchIndex[p], m.MatchIndex)
	r.nextIndex[p] = max(r.nextIndex[p], r.matchIndex[p]+1)
	r.maybeCommit()
	if r.nextIndex[p] <= r.log.lastIndex() {
		r.sendAppend(p, CauseCatchUp)
	}
}
