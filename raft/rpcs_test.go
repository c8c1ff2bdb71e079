package raft_test

import (
	"bytes"
	"flag"
	"regexp"
	"strconv"
	"sync"
	"testing"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/raftapi"
	"github.com/raftspec/raftspec/tests"
)

var rpcsRun = flag.String("rpcs", "^Figure83C$", "TestRPCsByCause: the scenarios (`regexp` over full names, \"Figure83C\") whose RPCs it breaks down")

// TestRPCsByCause runs scenarios of the lab-style suite against the
// reference and logs where its RPCs go, by kind and cause (raft.Stats,
// counted by each peer as it sends). The sum must be the harness's own
// count, which counts every Call, so no RPC is unaccounted for. See the
// breakdown with
//
//	go test -tags invariants -run RPCsByCause -v ./raft/ -rpcs 'Figure8.*3C'
func TestRPCsByCause(t *testing.T) {
	sel, err := regexp.Compile(*rpcsRun)
	if err != nil {
		t.Fatalf("-rpcs: %v", err)
	}
	for _, s := range tests.Scenarios() {
		if !sel.MatchString(s.FullName()) {
			continue
		}
		t.Run(s.FullName(), func(t *testing.T) {
			var mu sync.Mutex
			var peers []*raft.Raft
			mk := func(ends []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
				rf, _ := raft.New(ends, me, p, applyCh)
				mu.Lock()
				peers = append(peers, rf)
				mu.Unlock()
				return rf
			}
			var summary bytes.Buffer
			tests.RunScenario(t, s, mk, &tests.Options{Summary: &summary})
			var all raft.Stats
			for _, rf := range peers {
				all.Add(rf.Stats())
			}
			t.Logf("%s", summary.String())
			t.Logf("RPCs by kind and cause (%d peers made):\n%v", len(peers), &all)
			m := regexp.MustCompile(`rpcs +(\d+)`).FindStringSubmatch(summary.String())
			if m == nil {
				t.Fatalf("no rpcs figure in the summary line %q", summary.String())
			}
			if n, _ := strconv.Atoi(m[1]); all.Total() != n {
				t.Errorf("the peers' Stats count %d RPCs, the harness %d", all.Total(), n)
			}
		})
	}
}
