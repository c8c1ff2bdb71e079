// Package tester stands in for the lab's tester, only as far as the Raft
// in raft1 uses it: its Persister. raftspec check replaces it.
package tester

import "sync"

// Persister holds a server's Raft state and snapshot across crashes.
type Persister struct {
	mu        sync.Mutex
	raftstate []byte
	snapshot  []byte
}

func MakePersister() *Persister { return &Persister{} }

// Save replaces the Raft state and the snapshot together.
func (ps *Persister) Save(raftstate []byte, snapshot []byte) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	ps.raftstate = append([]byte(nil), raftstate...)
	ps.snapshot = append([]byte(nil), snapshot...)
}

func (ps *Persister) ReadRaftState() []byte {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]byte(nil), ps.raftstate...)
}

func (ps *Persister) ReadSnapshot() []byte {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return append([]byte(nil), ps.snapshot...)
}

func (ps *Persister) RaftStateSize() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.raftstate)
}

func (ps *Persister) SnapshotSize() int {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	return len(ps.snapshot)
}
