package raft

// A stand-in for the lab's server.go, which the lab ships beside the
// student's code: the tester's service over one Raft. It depends on
// test.go, so raftspec check hides both.

import (
	"6.5840/labrpc"
	"6.5840/raftapi"
	tester "6.5840/tester1"
)

type rfsrv struct {
	ts   *Test
	raft raftapi.Raft
}

func newRfsrv(ts *Test, srv int, ends []*labrpc.ClientEnd, persister *tester.Persister) *rfsrv {
	return &rfsrv{ts: ts, raft: Make(ends, srv, persister, make(chan raftapi.ApplyMsg))}
}
