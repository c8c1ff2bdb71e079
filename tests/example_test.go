package tests_test

import (
	"regexp"
	"testing"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/raftapi"
	"github.com/raftspec/raftspec/tests"
)

// myMake stands for an implementation written over raftapi's types whose
// Make returns its own *Raft, as lab code does. Here it is the reference.
func myMake(peers []raftapi.Peer, me int, persister raftapi.Persister, applyCh chan raftapi.ApplyMsg) *raft.Raft {
	return raft.Make(peers, me, persister, applyCh).(*raft.Raft)
}

// The adapter route of docs/checking-your-raft.md: Go does not convert a
// function returning *Raft to raftapi.MakeFunc, so a literal adapts it.
// The result must stay the *Raft itself: the network finds the RPC
// handlers by the type name Raft, so a wrapper type would hide them.
func TestRunRaftWithAdapter(t *testing.T) {
	mk := func(peers []raftapi.Peer, me int, persister raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
		return myMake(peers, me, persister, applyCh)
	}
	tests.RunRaft(t, mk, &tests.Options{Run: regexp.MustCompile(`^(InitialElection3A|BasicAgree3B)$`)})
}
