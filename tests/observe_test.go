package tests

import (
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raftapi"
)

// withWrappedFakes runs f against a 3-server cluster of fakeWorld servers
// wrapped by wrap, in virtual time, with failures recorded in rec.
func withWrappedFakes(t *testing.T, wrap func(rf *fakeRaft) raftapi.Raft, f func(c *Cluster)) *recTB {
	return withWrappedFakesOpts(t, ClusterOptions{}, wrap, f)
}

// withWrappedFakesOpts is withWrappedFakes with the cluster's options.
func withWrappedFakesOpts(t *testing.T, opts ClusterOptions, wrap func(rf *fakeRaft) raftapi.Raft, f func(c *Cluster)) *recTB {
	rec := &recTB{TB: t}
	synctest.Test(t, func(t *testing.T) {
		rec.TB = t
		w := newFakeWorld()
		mk := func(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
			return wrap(w.make(peers, me, p, applyCh).(*fakeRaft))
		}
		c := NewCluster(rec, mk, 3, opts)
		onGoroutine(func() { f(c) })
		onGoroutine(func() { c.end("fake", io.Discard) })
	})
	return rec
}

// inspectableFake is a fake server that shows its state as a View: the
// harness checks it after every Start it accepts.
type inspectableFake struct {
	*fakeRaft
	view func(me int) invariants.View
}

func (f inspectableFake) View() invariants.View { return f.view(f.me) }

func TestInspectableViewIsChecked(t *testing.T) {
	// Planted: server 0 says it has committed index 5 of an empty log.
	rec := withWrappedFakes(t, func(rf *fakeRaft) raftapi.Raft {
		return inspectableFake{rf, func(me int) invariants.View {
			v := invariants.View{ID: me, Term: 1, VotedFor: 0}
			if me == 0 {
				v.Role, v.CommitIndex = invariants.Leader, 5
			}
			return v
		}}
	}, func(c *Cluster) { c.One(100, 3, false) })
	wantFailure(t, rec, "invariant violated: CommitIndex violated at n0 term 1 index 5", "n0 Start (seen by the harness)")
}

func TestInspectableSoundViewPasses(t *testing.T) {
	rec := withWrappedFakes(t, func(rf *fakeRaft) raftapi.Raft {
		return inspectableFake{rf, func(me int) invariants.View {
			v := invariants.View{ID: me, Term: 1, VotedFor: 0}
			if me == 0 {
				v.Role = invariants.Leader
			}
			return v
		}}
	}, func(c *Cluster) {
		c.One(100, 3, false)
		c.One(200, 3, false)
	})
	if got := rec.text(); got != "" {
		t.Errorf("sound inspectable fake: recorded %q, want nothing", got)
	}
}

// movingLeader is a fake whose leadership of term 1 moves from server 0
// to server 1 after the first command: the two never claim to lead at
// the same moment, so CheckOneLeader cannot see it, but term 1 had two
// leaders.
type movingLeader struct {
	*fakeRaft
	moved *atomic.Bool
}

func (f movingLeader) GetState() (int, bool) {
	if f.moved.Load() {
		return 1, f.me == 1
	}
	return 1, f.me == 0
}

func (f movingLeader) Start(cmd any) (int, int, bool) {
	if !f.moved.Load() && f.me == 0 {
		index, term, ok := f.fakeRaft.Start(cmd)
		f.moved.Store(true)
		return index, term, ok
	}
	if f.moved.Load() && f.me == 1 {
		return 2, 1, true
	}
	return -1, 1, false
}

func TestElectionSafetyFromClaimsAlone(t *testing.T) {
	var moved atomic.Bool
	rec := withWrappedFakes(t, func(rf *fakeRaft) raftapi.Raft { return movingLeader{rf, &moved} }, func(c *Cluster) {
		c.CheckOneLeader()
		c.One(100, 3, false)
		c.CheckOneLeader()
		c.One(200, 3, false)
	})
	wantFailure(t, rec, "invariant violated: ElectionSafety violated at n1,n0 term 1")
	if strings.Contains(rec.text(), "(>1) leaders") {
		t.Errorf("CheckOneLeader saw two leaders at once; the fake is meant to hide them from it:\n%s", rec.text())
	}
}
