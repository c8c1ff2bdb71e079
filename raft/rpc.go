package raft

// The lab-style RPC argument and reply structs: what travels between
// peers. Field names are Figure 2's. Every field is exported, since
// encoding/gob silently drops unexported ones.

type RequestVoteArgs struct {
	Term         int // candidate's term
	CandidateId  int // candidate requesting vote
	LastLogIndex int // index of candidate's last log entry (§5.4)
	LastLogTerm  int // term of candidate's last log entry (§5.4)
}

type RequestVoteReply struct {
	Term        int  // currentTerm, for candidate to update itself
	VoteGranted bool // true means candidate received vote
}

type AppendEntriesArgs struct {
	Term         int     // leader's term
	LeaderId     int     // so follower can redirect clients
	PrevLogIndex int     // index of log entry immediately preceding new ones
	PrevLogTerm  int     // term of prevLogIndex entry
	Entries      []Entry // log entries to store (empty for heartbeat)
	LeaderCommit int     // leader's commitIndex
}

type AppendEntriesReply struct {
	Term    int  // currentTerm, for leader to update itself
	Success bool // true if follower contained entry matching prevLogIndex and prevLogTerm
	// The fast backup (§5.3): on a rejection, the term of the conflicting
	// entry and the first index the follower stores for it; or
	// NoConflictTerm and the follower's log length (last index + 1).
	ConflictTerm  int
	ConflictIndex int
}

type InstallSnapshotArgs struct {
	Term              int    // leader's term
	LeaderId          int    // so follower can redirect clients
	LastIncludedIndex int    // the snapshot replaces all entries up through and including this index
	LastIncludedTerm  int    // term of lastIncludedIndex
	Data              []byte // raw bytes of the snapshot (whole, in one message)
}

type InstallSnapshotReply struct {
	Term int // currentTerm, for leader to update itself
}

// RequestVote is the RequestVote RPC handler.
func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {
	if args == nil || reply == nil {
		return
	}
	m := Message{Kind: MsgRequestVote, From: args.CandidateId, Term: args.Term,
		LastLogIndex: args.LastLogIndex, LastLogTerm: args.LastLogTerm}
	if r, ok := rf.handle(m); ok {
		reply.Term, reply.VoteGranted = r.Term, r.VoteGranted
	}
}

// AppendEntries is the AppendEntries RPC handler.
func (rf *Raft) AppendEntries(args *AppendEntriesArgs, reply *AppendEntriesReply) {
	if args == nil || reply == nil {
		return
	}
	m := Message{Kind: MsgAppendEntries, From: args.LeaderId, Term: args.Term,
		PrevLogIndex: args.PrevLogIndex, PrevLogTerm: args.PrevLogTerm,
		Entries: args.Entries, LeaderCommit: args.LeaderCommit}
	if r, ok := rf.handle(m); ok {
		reply.Term, reply.Success = r.Term, r.Success
		reply.ConflictTerm, reply.ConflictIndex = r.ConflictTerm, r.ConflictIndex
	}
}

// InstallSnapshot is the InstallSnapshot RPC handler (§7).
func (rf *Raft) InstallSnapshot(args *InstallSnapshotArgs, reply *InstallSnapshotReply) {
	if args == nil || reply == nil {
		return
	}
	m := Message{Kind: MsgInstallSnapshot, From: args.LeaderId, Term: args.Term,
		LastIncludedIndex: args.LastIncludedIndex, LastIncludedTerm: args.LastIncludedTerm, Data: args.Data}
	if r, ok := rf.handle(m); ok {
		reply.Term = r.Term
	}
}

// call sends request m to its peer and turns the reply into a Message for
// the core, with the request's term and, on success, the index through
// which the follower now matches (computed from the request sent, never
// from the leader's state at the time of the reply: raft-bugs.md M10).
func (rf *Raft) call(m Message) (Message, bool) {
	resp := Message{From: m.To, To: rf.me, ReqTerm: m.Term}
	peer := rf.peers[m.To]
	switch m.Kind {
	case MsgRequestVote:
		args := RequestVoteArgs{Term: m.Term, CandidateId: rf.me, LastLogIndex: m.LastLogIndex, LastLogTerm: m.LastLogTerm}
		var reply RequestVoteReply
		if !peer.Call("Raft.RequestVote", &args, &reply) {
			return resp, false
		}
		resp.Kind, resp.Term, resp.VoteGranted = MsgRequestVoteReply, reply.Term, reply.VoteGranted
	case MsgAppendEntries:
		args := AppendEntriesArgs{Term: m.Term, LeaderId: rf.me, PrevLogIndex: m.PrevLogIndex,
			PrevLogTerm: m.PrevLogTerm, Entries: m.Entries, LeaderCommit: m.LeaderCommit}
		var reply AppendEntriesReply
		if !peer.Call("Raft.AppendEntries", &args, &reply) {
			return resp, false
		}
		resp.Kind, resp.Term, resp.Success = MsgAppendEntriesReply, reply.Term, reply.Success
		resp.ConflictTerm, resp.ConflictIndex = reply.ConflictTerm, reply.ConflictIndex
		if reply.Success {
			resp.MatchIndex = m.PrevLogIndex + len(m.Entries)
		}
	case MsgInstallSnapshot:
		args := InstallSnapshotArgs{Term: m.Term, LeaderId: rf.me, LastIncludedIndex: m.LastIncludedIndex,
			LastIncludedTerm: m.LastIncludedTerm, Data: m.Data}
		var reply InstallSnapshotReply
		if !peer.Call("Raft.InstallSnapshot", &args, &reply) {
			return resp, false
		}
		resp.Kind, resp.Term = MsgInstallSnapshotReply, reply.Term
		if reply.Term == m.Term {
			resp.MatchIndex = m.LastIncludedIndex
		}
	}
	return resp, true
}
