package raft

// Log replication (§5.3), commitment (§5.4.2) and the fast log backup of
// the lab's guide: a rejection says where the follower's log disagrees.

type AppendEntriesArgs struct {
	Term         int
	LeaderId     int
	PrevLogIndex int
	PrevLogTerm  int
	Entries      []LogEntry
	LeaderCommit int
}

type AppendEntriesReply struct {
	Term    int
	Success bool
	// On a rejection: the term of the conflicting entry and the first
	// index the follower holds for it, or XTerm -1 when the follower has
	// no entry at PrevLogIndex; then XLen is where the leader should
	// resume.
	XTerm  int
	XIndex int
	XLen   int
}

// AppendEntries is the RPC handler.
func (rf *Raft) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	defer rf.persist() // before the reply leaves

	reply.Term = rf.currentTerm
	reply.Success = false
	if args.Term < rf.currentTerm {
		return
	}
	if args.Term > rf.currentTerm {
		rf.becomeFollower(args.Term)
		reply.Term = rf.currentTerm
	}
	rf.state = Follower // a candidate that hears of this term's leader steps down
	rf.resetElectionTimer()

	if args.PrevLogIndex < rf.lastIncludedIndex {
		// That much is in our snapshot: resume after it.
		reply.XTerm, reply.XLen = -1, rf.lastIncludedIndex+1
		return
	}
	if args.PrevLogIndex > rf.lastLogIndex() {
		reply.XTerm, reply.XLen = -1, rf.lastLogIndex()+1
		return
	}
	if t := rf.termAt(args.PrevLogIndex); t != args.PrevLogTerm {
		reply.XTerm = t
		reply.XIndex = args.PrevLogIndex
		for reply.XIndex-1 > rf.lastIncludedIndex && rf.termAt(reply.XIndex-1) == t {
			reply.XIndex--
		}
		return
	}

	// Append what is new; truncate only at a real conflict, since this
	// request may be older than one already handled.
	for i, e := range args.Entries {
		index := args.PrevLogIndex + 1 + i
		if index <= rf.lastLogIndex() && rf.termAt(index) == e.Term {
			continue
		}
		rf.log = append(rf.log[:index-rf.lastIncludedIndex], args.Entries[i:]...)
		break
	}
	reply.Success = true

	if args.LeaderCommit > rf.commitIndex {
		lastNew := args.PrevLogIndex + len(args.Entries)
		rf.commitIndex = max(rf.commitIndex, min(args.LeaderCommit, lastNew))
		rf.applyCond.Signal()
	}
}

// broadcastAppendEntries sends each follower what it is missing, or a
// heartbeat. Called with rf.mu held.
func (rf *Raft) broadcastAppendEntries() {
	for i := range rf.peers {
		if i != rf.me {
			rf.sendAppendEntriesTo(i)
		}
	}
}

// sendAppendEntriesTo sends one AppendEntries (or InstallSnapshot, if the
// entries are gone) to server, from a new goroutine. Called with rf.mu
// held.
func (rf *Raft) sendAppendEntriesTo(server int) {
	if rf.killed() || rf.state != Leader {
		return
	}
	next := rf.nextIndex[server]
	if next <= rf.lastIncludedIndex {
		rf.sendInstallSnapshotTo(server)
		return
	}
	args := AppendEntriesArgs{
		Term:         rf.currentTerm,
		LeaderId:     rf.me,
		PrevLogIndex: next - 1,
		PrevLogTerm:  rf.termAt(next - 1),
		Entries:      rf.entriesFrom(next),
		LeaderCommit: rf.commitIndex,
	}
	go func() {
		reply := AppendEntriesReply{}
		if !rf.peers[server].Call("Raft.AppendEntries", &args, &reply) {
			return
		}
		rf.mu.Lock()
		defer rf.mu.Unlock()
		rf.handleAppendEntriesReply(server, &args, &reply)
	}()
}

func (rf *Raft) handleAppendEntriesReply(server int, args *AppendEntriesArgs, reply *AppendEntriesReply) {
	if rf.stepDownOnReply(reply.Term) {
		return
	}
	if rf.state != Leader || rf.currentTerm != args.Term {
		return // a reply from an older term
	}
	if reply.Success {
		match := args.PrevLogIndex + len(args.Entries)
		rf.matchIndex[server] = max(rf.matchIndex[server], match)
		rf.nextIndex[server] = max(rf.nextIndex[server], match+1)
		rf.advanceCommitIndex()
		return
	}
	next := reply.XLen
	if reply.XTerm != -1 {
		next = reply.XIndex
		// If we have entries of XTerm, resume after our last one.
		for i := rf.lastLogIndex(); i > rf.lastIncludedIndex; i-- {
			if rf.termAt(i) == reply.XTerm {
				next = i + 1
				break
			}
			if rf.termAt(i) < reply.XTerm {
				break
			}
		}
	}
	next = max(next, rf.matchIndex[server]+1)
	next = min(next, rf.lastLogIndex()+1)
	if next != rf.nextIndex[server] {
		rf.nextIndex[server] = next
		rf.sendAppendEntriesTo(server)
	}
}

// advanceCommitIndex commits the highest index stored on a majority, if
// its entry is of the current term: entries of earlier terms commit only
// with it (§5.4.2, Figure 8). Called with rf.mu held.
func (rf *Raft) advanceCommitIndex() {
	for n := rf.lastLogIndex(); n > rf.commitIndex && n > rf.lastIncludedIndex; n-- {
		if rf.termAt(n) != rf.currentTerm {
			break
		}
		count := 1
		for i := range rf.peers {
			if i != rf.me && rf.matchIndex[i] >= n {
				count++
			}
		}
		if count > len(rf.peers)/2 {
			rf.commitIndex = n
			rf.applyCond.Signal()
			return
		}
	}
}
