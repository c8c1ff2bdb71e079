package raft

// Log compaction (§7): the service's snapshots, and InstallSnapshot for
// followers too far behind.

type InstallSnapshotArgs struct {
	Term              int
	LeaderId          int
	LastIncludedIndex int
	LastIncludedTerm  int
	Data              []byte
}

type InstallSnapshotReply struct {
	Term int
}

// Snapshot is called by the service: its snapshot covers every entry up
// to and including index, so those entries can go.
func (rf *Raft) Snapshot(index int, snapshot []byte) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if index <= rf.lastIncludedIndex || index > rf.commitIndex {
		return
	}
	rf.compactLog(index, rf.termAt(index))
	rf.snapshot = snapshot
	rf.persist()
}

// compactLog drops the entries up to index, whose entry has term; the
// placeholder log[0] takes its place. Called with rf.mu held.
func (rf *Raft) compactLog(index, term int) {
	log := []LogEntry{{Term: term}}
	if index < rf.lastLogIndex() {
		log = append(log, rf.log[index-rf.lastIncludedIndex+1:]...)
	}
	rf.log = log
	rf.lastIncludedIndex = index
	rf.lastIncludedTerm = term
}

// InstallSnapshot is the RPC handler.
func (rf *Raft) InstallSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	defer rf.persist() // before the reply leaves

	reply.Term = rf.currentTerm
	if args.Term < rf.currentTerm {
		return
	}
	if args.Term > rf.currentTerm {
		rf.becomeFollower(args.Term)
		reply.Term = rf.currentTerm
	}
	rf.state = Follower
	rf.resetElectionTimer()

	// What we have committed we already hold: the snapshot must not take
	// the service back.
	if args.LastIncludedIndex <= rf.commitIndex {
		return
	}
	if args.LastIncludedIndex <= rf.lastLogIndex() && rf.termAt(args.LastIncludedIndex) == args.LastIncludedTerm {
		rf.compactLog(args.LastIncludedIndex, args.LastIncludedTerm) // keep what follows
	} else {
		rf.log = []LogEntry{{Term: args.LastIncludedTerm}}
		rf.lastIncludedIndex = args.LastIncludedIndex
		rf.lastIncludedTerm = args.LastIncludedTerm
	}
	rf.snapshot = args.Data
	rf.commitIndex = args.LastIncludedIndex
	rf.snapshotPending = true
	rf.applyCond.Signal()
}

// sendInstallSnapshotTo sends our snapshot to server, from a new
// goroutine. Called with rf.mu held.
func (rf *Raft) sendInstallSnapshotTo(server int) {
	args := InstallSnapshotArgs{
		Term:              rf.currentTerm,
		LeaderId:          rf.me,
		LastIncludedIndex: rf.lastIncludedIndex,
		LastIncludedTerm:  rf.lastIncludedTerm,
		Data:              rf.snapshot,
	}
	go func() {
		reply := InstallSnapshotReply{}
		if !rf.peers[server].Call("Raft.InstallSnapshot", &args, &reply) {
			return
		}
		rf.mu.Lock()
		defer rf.mu.Unlock()
		if rf.stepDownOnReply(reply.Term) {
			return
		}
		if rf.state != Leader || rf.currentTerm != args.Term {
			return // a reply from an older term
		}
		rf.matchIndex[server] = max(rf.matchIndex[server], args.LastIncludedIndex)
		rf.nextIndex[server] = max(rf.nextIndex[server], args.LastIncludedIndex+1)
		rf.advanceCommitIndex()
	}()
}
