package raft

import "github.com/raftspec/raftspec/raftapi"

type raftPeer = raftapi.Peer
type raftapiApplyMsg = raftapi.ApplyMsg

// memPersister is the least Persister, for the driver's own tests.
type memPersister struct{ state, snapshot []byte }

func (p *memPersister) Save(state, snapshot []byte) { p.state, p.snapshot = state, snapshot }
func (p *memPersister) ReadRaftState() []byte       { return p.state }
func (p *memPersister) ReadSnapshot() []byte        { return p.snapshot }
func (p *memPersister) RaftStateSize() int          { return len(p.state) }
func (p *memPersister) SnapshotSize() int           { return len(p.snapshot) }
