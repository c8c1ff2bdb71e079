package tests

import (
	"io"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/raftspec/raftspec/raftapi"
)

// snapWorld is a make-believe Raft with snapshots, for the 3D checks of
// the harness: like fakeWorld, server 0 leads term 1 and Start "commits"
// at once, handing the command to each server's applier in turn; unlike
// it, each server remembers the snapshots its service hands to Snapshot,
// and a test plants bad behaviour with two hooks.
type snapWorld struct {
	mu       sync.Mutex // serializes Start, and so every delivery
	applyChs map[int]chan raftapi.ApplyMsg
	persist  map[int]raftapi.Persister
	log      map[int]any // index → command, as committed
	next     int

	snapMu   sync.Mutex
	snapCond *sync.Cond           // signalled when snaps changes
	snaps    map[int]fakeSnapshot // server → latest snapshot from its service

	// skip says server does not get the command at index (it lags).
	skip func(server, index int) bool
	// plant runs after the command at index was delivered; it may
	// deliver more, with w.deliver.
	plant func(w *snapWorld, index int)
	// bloat: every Start saves a Raft state 100 bytes longer than the
	// last, like a log that is never trimmed.
	bloat bool
}

type fakeSnapshot struct {
	index int
	data  []byte
}

func newSnapWorld() *snapWorld {
	w := &snapWorld{
		applyChs: map[int]chan raftapi.ApplyMsg{},
		persist:  map[int]raftapi.Persister{},
		log:      map[int]any{},
		snaps:    map[int]fakeSnapshot{},
		next:     1,
	}
	w.snapCond = sync.NewCond(&w.snapMu)
	return w
}

// snapRaft is one server of a snapWorld.
type snapRaft struct {
	w  *snapWorld
	me int
}

func (w *snapWorld) make(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.applyChs[me] = applyCh
	w.persist[me] = p
	return &snapRaft{w: w, me: me}
}

// deliver hands m to server i's applier; w.mu is held (by Start), so
// deliveries never interleave. The applier may call Snapshot meanwhile:
// it takes only snapMu.
func (w *snapWorld) deliver(i int, m raftapi.ApplyMsg) { w.applyChs[i] <- m }

// sync returns once server i's applier has dealt with everything
// delivered to it: it hands over an empty ApplyMsg (which the applier
// ignores) and so waits for the applier to come back for more. Without it
// a planted message may still be in the applier when the test ends, and
// be dropped as a dead incarnation's.
func (w *snapWorld) sync(i int) { w.deliver(i, raftapi.ApplyMsg{}) }

// command is the ApplyMsg of the committed command at index.
func (w *snapWorld) command(index int) raftapi.ApplyMsg {
	return raftapi.ApplyMsg{CommandValid: true, Command: w.log[index], CommandIndex: index}
}

// snapshot is server i's service's snapshot through index, as an
// ApplyMsg. It waits for the service to take it: the applier may still be
// busy with the command at index when its delivery returns.
func (w *snapWorld) snapshot(i, index int) raftapi.ApplyMsg {
	w.snapMu.Lock()
	defer w.snapMu.Unlock()
	for w.snaps[i].index < index {
		w.snapCond.Wait()
	}
	s := w.snaps[i]
	return raftapi.ApplyMsg{SnapshotValid: true, Snapshot: s.data, SnapshotIndex: s.index, SnapshotTerm: 1}
}

func (rf *snapRaft) GetState() (int, bool) { return 1, rf.me == 0 }

func (rf *snapRaft) Start(cmd any) (int, int, bool) {
	if rf.me != 0 {
		return -1, 1, false
	}
	w := rf.w
	w.mu.Lock()
	defer w.mu.Unlock()
	index := w.next
	w.next++
	w.log[index] = cmd
	if w.bloat {
		for _, p := range w.persist {
			p.Save(make([]byte, 100*index), nil)
		}
	}
	for i := range len(w.applyChs) {
		if w.skip == nil || !w.skip(i, index) {
			w.deliver(i, w.command(index))
		}
	}
	if w.plant != nil {
		w.plant(w, index)
	}
	return index, 1, true
}

func (rf *snapRaft) Snapshot(index int, snapshot []byte) {
	rf.w.snapMu.Lock()
	defer rf.w.snapMu.Unlock()
	rf.w.snaps[rf.me] = fakeSnapshot{index, append([]byte(nil), snapshot...)}
	rf.w.snapCond.Broadcast()
}

func (rf *snapRaft) PersistBytes() int { return 0 }
func (rf *snapRaft) Kill()             {}

// withSnapCluster runs f against a 3-server cluster of w with the
// snapshotting applier, in virtual time, with failures recorded in rec.
func withSnapCluster(t *testing.T, w *snapWorld, f func(c *Cluster)) *recTB {
	var rec *recTB
	synctest.Test(t, func(t *testing.T) {
		rec = &recTB{TB: t}
		c := NewCluster(rec, w.make, 3, ClusterOptions{Snapshot: true})
		onGoroutine(func() { f(c) })
		c.end("fake3D", io.Discard) // on this goroutine, which the leak check knows

	})
	return rec
}

// commit commits n commands through the fake.
func commit(c *Cluster, n int) {
	for k := range n {
		c.One(1000+k, 1, false)
	}
}

// The sound fake, snapshots and all, passes: server 2 misses commands
// 10–19 and is brought up to date by server 0's snapshot through 19, as an
// InstallSnapshot would; a snapshot at the index already applied is not
// a step back.
func TestSnapshotFakePasses(t *testing.T) {
	w := newSnapWorld()
	w.skip = func(i, index int) bool { return i == 2 && index >= 10 && index <= 19 }
	w.plant = func(w *snapWorld, index int) {
		if index == 19 {
			w.deliver(2, w.snapshot(0, 19))
			w.deliver(1, w.snapshot(1, 19)) // through 19, as already applied
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) {
		commit(c, 25)
		c.Wait(25, 3, -1)
		if n, cmd := c.NCommitted(12); n != 3 || cmd != 1011 {
			t.Errorf("NCommitted(12) = %d, %v, want 3, 1011 (server 2 has it from the snapshot)", n, cmd)
		}
	})
	if got := rec.text(); got != "" {
		t.Errorf("sound fake: recorded %q, want nothing", got)
	}
}

// M19: an older snapshot delivered after newer entries.
func TestApplyCheckerCatchesOlderSnapshot(t *testing.T) {
	w := newSnapWorld()
	w.plant = func(w *snapWorld, index int) {
		if index == 12 {
			w.deliver(1, w.snapshot(1, 9)) // through 9, after 10..12
			w.sync(1)
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) { commit(c, 14) })
	wantFailure(t, rec, "server 1: snapshot at index 9 moves the applied state back from 12")
}

// M19: a snapshot that holds another index than the ApplyMsg claims.
func TestApplyCheckerCatchesMisclaimedSnapshot(t *testing.T) {
	w := newSnapWorld()
	w.plant = func(w *snapWorld, index int) {
		if index == 12 {
			m := w.snapshot(1, 9)
			m.SnapshotIndex = 12
			w.deliver(1, m)
			w.sync(1)
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) { commit(c, 14) })
	wantFailure(t, rec, "server 1: snapshot delivered as index 12 decodes to index 9")
}

// M19: after installing a snapshot, applies resume at its index + 1, not
// where the server's lastApplied was before (it "forgets lastApplied =
// lastIncludedIndex").
func TestApplyCheckerCatchesApplyBehindSnapshot(t *testing.T) {
	w := newSnapWorld()
	w.skip = func(i, index int) bool { return i == 2 && index >= 10 }
	w.plant = func(w *snapWorld, index int) {
		if index == 19 {
			w.deliver(2, w.snapshot(0, 19))
			w.deliver(2, w.command(10))
			w.sync(2)
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) { commit(c, 20) })
	wantFailure(t, rec, "apply error: server 2 apply out of order 10 (want index 20)")
}

// A snapshot whose commands differ from what the others applied.
func TestApplyCheckerCatchesWrongSnapshotContent(t *testing.T) {
	w := newSnapWorld()
	w.skip = func(i, index int) bool { return i == 2 && index >= 10 }
	w.plant = func(w *snapWorld, index int) {
		if index == 12 {
			log := make([]any, 12)
			for k := range log {
				log[k] = w.log[k+1]
			}
			log[10] = 7 // index 11
			data, err := encode(snapshotState{Index: 12, Log: log})
			if err != nil {
				panic(err)
			}
			w.deliver(2, raftapi.ApplyMsg{SnapshotValid: true, Snapshot: data, SnapshotIndex: 12, SnapshotTerm: 1})
			w.sync(2)
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) { commit(c, 14) })
	wantFailure(t, rec, "apply error: snapshot commit index=11 server=2 7 != server=")
}

// A snapshot the service never wrote.
func TestApplyCheckerCatchesGarbageSnapshot(t *testing.T) {
	w := newSnapWorld()
	w.plant = func(w *snapWorld, index int) {
		if index == 3 {
			w.deliver(1, raftapi.ApplyMsg{SnapshotValid: true, Snapshot: []byte("junk"), SnapshotIndex: 3, SnapshotTerm: 1})
			w.sync(1)
		}
	}
	rec := withSnapCluster(t, w, func(c *Cluster) { commit(c, 4) })
	wantFailure(t, rec, "server 1: snapshot does not decode")
}

// M21: a Raft that never trims its log fails the 3D rounds on its size.
func TestSnapshotRoundsCatchUntrimmedLog(t *testing.T) {
	w := newSnapWorld()
	w.bloat = true
	rec := withSnapCluster(t, w, snapshotRounds(noFault))
	wantFailure(t, rec, "Log size too large")
	if !strings.Contains(rec.text(), "want < 2000") {
		t.Errorf("recorded %q, want the bound named", rec.text())
	}
}

// The sound fake passes the same rounds: the check is the size, nothing
// else.
func TestSnapshotRoundsPassSoundFake(t *testing.T) {
	rec := withSnapCluster(t, newSnapWorld(), snapshotRounds(noFault))
	if got := rec.text(); got != "" {
		t.Errorf("sound fake: recorded %q, want nothing", got)
	}
}

// An applier takes an ApplyMsg, sees its incarnation still live, and is
// descheduled; the test crashes and restarts the server; the applier goes
// on. What it applies must not land in the new incarnation's record (a
// false "apply out of order" would follow). Played here by handing the
// old incarnation's ApplyMsg to apply after the restart.
func TestApplyOfCrashedIncarnationIsDropped(t *testing.T) {
	rec := withSnapCluster(t, newSnapWorld(), func(c *Cluster) {
		commit(c, 12)
		c.Wait(12, 3, -1)
		c.mu.Lock()
		old := c.stops[1]
		c.mu.Unlock()
		rf := c.Raft(1)
		c.Restart(1)
		c.Connect(1)
		for _, m := range []raftapi.ApplyMsg{
			{CommandValid: true, Command: 13, CommandIndex: 13},
			{SnapshotValid: true, Snapshot: encodeOrPanic(snapshotState{Index: 1, Log: []any{1000}}), SnapshotIndex: 1, SnapshotTerm: 1},
		} {
			if msg := c.apply(1, rf, m, old); msg != "" {
				t.Errorf("apply(%v) of a crashed incarnation = %q, want it dropped", m, msg)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.lastApplied[1] != 0 || len(c.logs[1]) != 0 {
			t.Errorf("the new incarnation's record changed: lastApplied %d, %d entries", c.lastApplied[1], len(c.logs[1]))
		}
	})
	if got := rec.text(); got != "" {
		t.Errorf("recorded %q, want nothing", got)
	}
}

func encodeOrPanic(s snapshotState) []byte {
	b, err := encode(s)
	if err != nil {
		panic(err)
	}
	return b
}
