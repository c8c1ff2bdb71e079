package tests

import (
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/raftspec/raftspec/raftapi"
)

// recTB is a testing.TB that records failures instead of reporting them,
// so a test can assert that a check fails, and with what message.
type recTB struct {
	testing.TB
	mu   sync.Mutex
	msgs []string
	logs []string // what Logf said, apart: a log is not a failure
}

func (r *recTB) record(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recTB) Errorf(format string, args ...any) { r.record(format, args...) }
func (r *recTB) Fatalf(format string, args ...any) { r.record(format, args...); runtime.Goexit() }
func (r *recTB) FailNow()                          { r.record("FailNow"); runtime.Goexit() }
func (r *recTB) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}
func (r *recTB) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs) > 0
}

// text is everything recorded, one message a line.
func (r *recTB) text() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.msgs, "\n")
}

// onGoroutine runs f on a goroutine of its own and waits for it, so that
// a Fatalf (runtime.Goexit) in f ends f, not the test.
func onGoroutine(f func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	<-done
}

// fakeWorld is a tiny make-believe Raft shared by a cluster's servers: no
// messages, no elections. Server 0 always leads term 1, and Start on it
// "commits" at once by handing the command to every server's applier. Its
// knobs plant the bad behaviours the harness must catch.
type fakeWorld struct {
	mu       sync.Mutex
	applyChs map[int]chan raftapi.ApplyMsg
	next     int

	allLead   bool          // every server claims to lead term 1
	noLeader  bool          // no server claims to lead
	corruptAt int           // server that applies cmd+1 instead of cmd (-1: none)
	skipIndex int           // index no server applies (0: none)
	leak      bool          // Make starts a goroutine that outlives Kill
	closeCh   bool          // Kill closes applyCh, as the lab allows
	storm     bool          // Make starts a goroutine that calls its next peer again at once, until Kill
	leakUntil chan struct{} // what it waits for (made in the bubble)
}

func newFakeWorld() *fakeWorld {
	return &fakeWorld{applyChs: map[int]chan raftapi.ApplyMsg{}, next: 1, corruptAt: -1}
}

// fakeRaft is one server of a fakeWorld.
type fakeRaft struct {
	w    *fakeWorld
	me   int
	mu   sync.Mutex
	dead bool
}

func (w *fakeWorld) make(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
	w.mu.Lock()
	w.applyChs[me] = applyCh
	w.mu.Unlock()
	if w.leak {
		if w.leakUntil == nil {
			w.leakUntil = make(chan struct{})
		}
		until := w.leakUntil
		go func() { <-until }() // planted: survives Kill
	}
	rf := &fakeRaft{w: w, me: me}
	if w.storm {
		next := peers[(me+1)%len(peers)]
		go func() { // planted: calls again at once, refused or not
			for !rf.killed() {
				next.Call("fakeRaft.Refuse", &StormArgs{}, &StormArgs{})
			}
		}()
	}
	return rf
}

// StormArgs are the arguments and reply of fakeRaft.Refuse.
type StormArgs struct{ X int }

// Refuse is an RPC handler that does nothing.
func (rf *fakeRaft) Refuse(args *StormArgs, reply *StormArgs) {}

func (rf *fakeRaft) killed() bool {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.dead
}

func (rf *fakeRaft) GetState() (int, bool) {
	return 1, !rf.w.noLeader && (rf.me == 0 || rf.w.allLead)
}

func (rf *fakeRaft) Start(cmd any) (int, int, bool) {
	if rf.me != 0 {
		return -1, 1, false
	}
	w := rf.w
	w.mu.Lock()
	defer w.mu.Unlock()
	index := w.next
	w.next++
	if index == w.skipIndex {
		index = w.next // planted: a gap
		w.next++
	}
	var wg sync.WaitGroup
	for i, ch := range w.applyChs {
		m := raftapi.ApplyMsg{CommandValid: true, Command: cmd, CommandIndex: index}
		if i == w.corruptAt {
			m.Command = cmd.(int) + 1 // planted: a different command
		}
		wg.Go(func() { ch <- m })
	}
	wg.Wait() // applied everywhere before Start returns: simple and ordered
	return index, 1, true
}

func (rf *fakeRaft) Snapshot(int, []byte) {}
func (rf *fakeRaft) PersistBytes() int    { return 0 }
func (rf *fakeRaft) Kill() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.w.closeCh && !rf.dead {
		rf.w.mu.Lock()
		close(rf.w.applyChs[rf.me])
		delete(rf.w.applyChs, rf.me)
		rf.w.mu.Unlock()
	}
	rf.dead = true
}
