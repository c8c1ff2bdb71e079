// Package raftapi is the contract between a Raft implementation, the service
// above it and the harness around it. It is the lab-style API: an
// implementation is made by a MakeFunc, receives requests through its exported
// RPC handlers, and delivers committed commands and snapshots on applyCh.
//
// raftapi is a leaf: it imports nothing of this module.
package raftapi

// ApplyMsg is what Raft delivers on applyCh: either one committed command
// (CommandValid) or a snapshot the service must install (SnapshotValid).
type ApplyMsg struct {
	CommandValid bool
	Command      any
	CommandIndex int

	SnapshotValid bool
	Snapshot      []byte
	SnapshotTerm  int
	SnapshotIndex int
}

// Raft is one peer of a Raft cluster, as the service and the harness see it.
type Raft interface {
	// Start proposes command for the log. It returns at once, without
	// waiting for agreement: the index the command will have if it is ever
	// committed, the current term, and whether this peer believes it leads.
	Start(command any) (index int, term int, isLeader bool)
	// GetState returns the current term and whether this peer believes it
	// is the leader.
	GetState() (term int, isLeader bool)
	// Snapshot tells Raft that the service has a snapshot that includes
	// every entry up to and including index; Raft may discard them.
	Snapshot(index int, snapshot []byte)
	// PersistBytes is the size of the persisted Raft state, in bytes.
	PersistBytes() int
	// Kill stops the peer. It ends every goroutine the peer started, and
	// the peer never again sends on applyCh or writes to its persister.
	Kill()
}

// Persister is a peer's stable storage. Save replaces both the Raft state
// and the snapshot atomically: after a crash, both come from one Save.
type Persister interface {
	Save(raftstate []byte, snapshot []byte)
	ReadRaftState() []byte
	ReadSnapshot() []byte
	RaftStateSize() int
	SnapshotSize() int
}

// Peer is the sending end of a connection to one other peer. Call sends an
// RPC named method (e.g. "Raft.RequestVote") and waits for its reply. It
// returns false if the request or the reply was lost, or the peer is down;
// it may block for a long time before doing so, so never hold a lock
// across it.
type Peer interface {
	Call(method string, args any, reply any) bool
}

// MakeFunc makes one peer: peers[me] is this peer's own end, persister holds
// what a previous incarnation saved, and applyCh receives what commits.
// It has the lab's signature, so any lab-style implementation plugs in.
type MakeFunc func(peers []Peer, me int, persister Persister, applyCh chan ApplyMsg) Raft
