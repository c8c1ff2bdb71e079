package tests

import (
	"sync"

	"github.com/raftspec/raftspec/invariants"

	"github.com/raftspec/raftspec/raftapi"
)

// Persister is in-memory stable storage for one server: a raftapi.Persister.
// It keeps its own copies of what it is given and hands out copies, so no
// caller can change saved state behind its back.
//
// The cluster gives each incarnation of a server its own Persister, a Copy
// of the last one: a killed instance that keeps writing writes into an
// object nobody reads any more, never into its successor's storage. The
// crash happens at that Copy (see Cluster.Crash).
//
// It also carries what the cluster offers the Raft it is handed to (see
// raft.Harness): the cluster's invariants Observer and a seed for the
// incarnation's random choices.
type Persister struct {
	mu        sync.Mutex
	raftstate []byte
	snapshot  []byte

	obs  *invariants.Observer
	seed uint64
}

var _ raftapi.Persister = (*Persister)(nil)

// Observer is the invariants Observer (an *invariants.Observer) of the
// cluster the storage belongs to, or nil: none, or storage made outside a
// cluster. It is the reference's raft.Harness.
func (p *Persister) Observer() any {
	if p.obs == nil {
		return nil // not a typed nil in an interface
	}
	return p.obs
}

// Seed is the seed the cluster gives the incarnation this storage is
// handed to: the cluster's seed, mixed with the server and incarnation.
func (p *Persister) Seed() uint64 { return p.seed }

// NewPersister returns empty storage.
func NewPersister() *Persister { return &Persister{} }

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// Copy returns new storage holding what p holds now.
func (p *Persister) Copy() *Persister {
	p.mu.Lock()
	defer p.mu.Unlock()
	return &Persister{raftstate: clone(p.raftstate), snapshot: clone(p.snapshot), obs: p.obs, seed: p.seed}
}

// Save replaces the Raft state and the snapshot together. It copies
// them into the storage it has (it never hands that out), so a save of a
// long log costs a copy, not an allocation the garbage collector must
// then reclaim.
func (p *Persister) Save(raftstate, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raftstate = overwrite(p.raftstate, raftstate)
	p.snapshot = overwrite(p.snapshot, snapshot)
}

// overwrite returns b, or nil for nil, in dst's storage when it fits.
func overwrite(dst, b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(dst[:0], b...)
}

// ReadRaftState returns a copy of the saved Raft state.
func (p *Persister) ReadRaftState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clone(p.raftstate)
}

// ReadSnapshot returns a copy of the saved snapshot.
func (p *Persister) ReadSnapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return clone(p.snapshot)
}

// RaftStateSize is the size of the saved Raft state in bytes.
func (p *Persister) RaftStateSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.raftstate)
}

// SnapshotSize is the size of the saved snapshot in bytes.
func (p *Persister) SnapshotSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.snapshot)
}
