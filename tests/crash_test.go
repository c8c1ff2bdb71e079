package tests

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raftapi"
)

// The crash point. Cluster.Crash copies a server's storage away from it
// before it calls Kill, as the lab's crash1 does; the crash "happens" at
// the copy, and the old incarnation keeps running until Kill stops it.
// These tests pin down what the invariants Observer must believe about a
// write that incarnation makes in between, with a fake that reports its
// transitions to the Observer the way the reference does with -tags
// invariants.

// termFake is a fake server whose only persistent state is currentTerm,
// saved as decimal text. It reports to its cluster's Observer (which the
// cluster hands it with its Persister, as to the reference): Start
// when it is made (from what its Persister holds) and Persist after each
// save, as the reference's hooks do.
type termFake struct {
	*fakeRaft
	p    raftapi.Persister
	obs  *invariants.Observer
	mu   sync.Mutex
	term int
	// inKill, if set, runs at the start of Kill: a transition of the old
	// incarnation that was in flight when the harness crashed it (the
	// reference's Kill waits for its lock, so such a transition ends
	// before Kill returns, after the harness copied the storage away).
	inKill func(f *termFake)
	// lose, if set, makes bump report a save it does not make: a planted
	// durability bug.
	lose bool
}

func (f *termFake) report(kind invariants.Kind, what string) {
	v := invariants.View{ID: f.me, Term: f.term, VotedFor: invariants.None,
		Persisted: &invariants.Durable{Term: f.term, VotedFor: invariants.None}}
	f.obs.Observe(&v, invariants.Event{Kind: kind, Desc: fmt.Sprintf("n%d %s term %d", f.me, what, f.term)})
}

// bump moves to the next term and persists it (unless lose).
func (f *termFake) bump() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.term++
	if !f.lose {
		f.p.Save([]byte(strconv.Itoa(f.term)), nil)
	}
	f.report(invariants.Persist, "persist")
}

func (f *termFake) Kill() {
	if f.inKill != nil {
		f.inKill(f)
	}
	f.fakeRaft.Kill()
}

// withTermFakes runs body against a 3-server cluster of termFakes in
// virtual time, with failures recorded in the returned recTB. setup, if
// not nil, configures each incarnation as it is made.
func withTermFakes(t *testing.T, setup func(f *termFake), body func(c *Cluster, fakes func(i int) *termFake)) *recTB {
	rec := &recTB{TB: t}
	synctest.Test(t, func(t *testing.T) {
		rec.TB = t
		w := newFakeWorld()
		var mu sync.Mutex
		live := map[int]*termFake{}
		mk := func(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
			term := 0
			if b := p.ReadRaftState(); len(b) > 0 {
				term, _ = strconv.Atoi(string(b))
			}
			f := &termFake{fakeRaft: w.make(peers, me, p, applyCh).(*fakeRaft), p: p, term: term}
			f.obs, _ = p.(*Persister).Observer().(*invariants.Observer)
			if setup != nil {
				setup(f)
			}
			f.report(invariants.Start, "start")
			mu.Lock()
			live[me] = f
			mu.Unlock()
			return f
		}
		c := NewCluster(rec, mk, 3, ClusterOptions{})
		onGoroutine(func() {
			body(c, func(i int) *termFake {
				mu.Lock()
				defer mu.Unlock()
				return live[i]
			})
			if err := c.err(); err != nil {
				c.fatal(err)
			}
		})
		onGoroutine(func() { c.end("fake", io.Discard) })
	})
	return rec
}

// A write the old incarnation makes after the crash point goes into
// storage nobody reads: its successor rightly starts without it, and the
// Observer must not expect it to (the false "TermMonotonic violated ...
// restarted in term 9 after persisting term 10" of UnreliableChurn3C).
func TestZombieWriteAfterCrashIsNotExpected(t *testing.T) {
	rec := withTermFakes(t, func(f *termFake) {
		if f.me == 1 {
			f.inKill = func(f *termFake) { f.bump() }
		}
	}, func(c *Cluster, fakes func(int) *termFake) {
		fakes(1).bump() // term 1, persisted before the crash
		c.Restart(1)    // the old incarnation persists term 2 in Kill
		if got := fakes(1).term; got != 1 {
			t.Errorf("restarted in term %d, want 1: the write after the crash point is lost", got)
		}
	})
	if got := rec.text(); got != "" {
		t.Errorf("a write after the crash point was expected to survive it:\n%s", got)
	}
}

// A persisted term that a restart loses is a real durability bug, and is
// still caught.
func TestLostPersistedTermIsCaught(t *testing.T) {
	rec := withTermFakes(t, func(f *termFake) {
		if f.me == 1 {
			f.lose = true
		}
	}, func(c *Cluster, fakes func(int) *termFake) {
		fakes(1).bump() // reports term 1 persisted, but does not save it
		c.Restart(1)
	})
	wantFailure(t, rec, "TermMonotonic violated at n1: found restarted in term 0 after persisting term 1",
		"n1 persist term 1")
}

// What the Observer is told is the crash point must not be later than the
// copy: a write the old incarnation made and reported before the crash,
// and that its successor loses, is caught even if the old incarnation
// goes on writing after the crash.
func TestLostTermBeforeCrashCaughtDespiteZombieWrite(t *testing.T) {
	rec := withTermFakes(t, func(f *termFake) {
		if f.me == 1 && f.term == 0 {
			f.lose = true // the first incarnation's saves are lost
			f.inKill = func(f *termFake) { f.bump() }
		}
	}, func(c *Cluster, fakes func(int) *termFake) {
		fakes(1).bump() // term 1 reported, lost
		c.Restart(1)    // term 2 reported after the crash point
	})
	wantFailure(t, rec, "TermMonotonic violated at n1: found restarted in term 0 after persisting term 1")
	if strings.Contains(rec.text(), "after persisting term 2") {
		t.Errorf("the write after the crash point was expected to survive it:\n%s", rec.text())
	}
}

// countingInspectable is an Inspectable fake whose View is its own
// incarnation's: a leader of term 1 (server 0) whose log and commitIndex
// count the commands this incarnation accepted. A restart starts it
// afresh, as a Raft with nothing persisted but its term.
type countingInspectable struct {
	*fakeRaft
	n *atomic.Int64
}

func (f countingInspectable) Start(cmd any) (int, int, bool) {
	index, term, ok := f.fakeRaft.Start(cmd)
	if ok {
		f.n.Add(1)
	}
	return index, term, ok
}

func (f countingInspectable) View() invariants.View {
	n := int(f.n.Load())
	v := invariants.View{ID: f.me, Term: 1, VotedFor: 0, CommitIndex: n, LastApplied: n}
	for range n {
		v.Log = append(v.Log, invariants.Entry{Term: 1})
	}
	if f.me == 0 {
		v.Role = invariants.Leader
	}
	return v
}

// The first View of a new incarnation is a restart, not a step of the
// old one: its commitIndex starts again from what it persisted.
func TestInspectableRestartIsNotAStep(t *testing.T) {
	rec := withWrappedFakes(t, func(rf *fakeRaft) raftapi.Raft {
		return countingInspectable{rf, new(atomic.Int64)}
	}, func(c *Cluster) {
		c.One(100, 3, false)
		c.One(200, 3, false)
		c.Restart(0)
		c.obs.started(0) // as if it accepted a Start: its View is observed
		if err := c.err(); err != nil {
			c.fatal(err)
		}
	})
	if got := rec.text(); got != "" {
		t.Errorf("a restarted inspectable fake: recorded %q, want nothing", got)
	}
}

// viewGate holds server 0's View while a test crashes it.
type viewGate struct {
	mu      sync.Mutex
	taking  chan struct{} // closed when a held View is being taken
	release chan struct{} // closed to let it go on
}

// gatedInspectable is a sound inspectable fake, except that a View of
// server 0 taken while its gate is set waits for release and then shows
// garbage (commitIndex 5 of an empty log).
type gatedInspectable struct {
	*fakeRaft
	g *viewGate
}

func (f gatedInspectable) View() invariants.View {
	v := invariants.View{ID: f.me, Term: 1, VotedFor: 0}
	if f.me != 0 {
		return v
	}
	v.Role = invariants.Leader
	f.g.mu.Lock()
	taking, release := f.g.taking, f.g.release
	f.g.mu.Unlock()
	if taking != nil {
		close(taking)
		<-release
		v.CommitIndex = 5
	}
	return v
}

// A crash does not wait for a View being taken, and a View of an
// incarnation finished after its crash point is not reported.
func TestViewAcrossCrashIsDropped(t *testing.T) {
	g := &viewGate{}
	rec := withWrappedFakes(t, func(rf *fakeRaft) raftapi.Raft {
		return gatedInspectable{rf, g}
	}, func(c *Cluster) {
		c.One(100, 3, false)
		taking, release, done := make(chan struct{}), make(chan struct{}), make(chan struct{})
		g.mu.Lock()
		g.taking, g.release = taking, release
		g.mu.Unlock()
		go func() {
			defer close(done)
			c.obs.started(0) // as if n0 accepted a Start: its View is taken
		}()
		<-taking
		c.Crash(0) // returns while the View is still being taken
		g.mu.Lock()
		g.taking, g.release = nil, nil
		g.mu.Unlock()
		close(release)
		<-done
		if err := c.err(); err != nil {
			c.fatal(err)
		}
	})
	if got := rec.text(); got != "" {
		t.Errorf("a View taken across a crash: recorded %q, want nothing", got)
	}
}
