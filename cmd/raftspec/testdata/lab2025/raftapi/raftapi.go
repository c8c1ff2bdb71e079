// Package raftapi is the lab's interface between Raft and the service
// above it. raftspec check replaces it with aliases of its own.
package raftapi

// Raft is what the tester and the service call.
type Raft interface {
	Start(command interface{}) (int, int, bool)
	GetState() (int, bool)
	Snapshot(index int, snapshot []byte)
	PersistBytes() int
	Kill()
}

// ApplyMsg is sent on applyCh for each newly committed log entry
// (CommandValid) or for a snapshot to install (SnapshotValid).
type ApplyMsg struct {
	CommandValid bool
	Command      interface{}
	CommandIndex int

	SnapshotValid bool
	Snapshot      []byte
	SnapshotTerm  int
	SnapshotIndex int
}
