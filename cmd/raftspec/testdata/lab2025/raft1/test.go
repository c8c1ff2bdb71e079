package raft

// A stand-in for the lab's test.go: the harness of the lab's own tests,
// over the lab's tester.

import tester "6.5840/tester1"

type Test struct {
	*tester.Config
	srvs []*rfsrv
}
