package kv

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftspec/raftspec/raftapi"
	"github.com/stretchr/testify/require"
)

// fakeRaft is a one-node "Raft" that commits every Start at once, in
// order, unless told to put another command at the next index (as a new
// leader's entry would). It remembers the last snapshot it was given.
type fakeRaft struct {
	mu        sync.Mutex
	applyCh   chan raftapi.ApplyMsg
	persister *memPersister
	next      int
	replace   any // if set, the next Start's index gets this command instead
	pending   []raftapi.ApplyMsg
	cond      *sync.Cond
	dead      bool
	stop      chan struct{} // closed by Kill: a send in flight gives up
	done      chan struct{} // closed when the applier has returned
}

func newFakeRaft(p *memPersister, applyCh chan raftapi.ApplyMsg) *fakeRaft {
	f := &fakeRaft{applyCh: applyCh, persister: p, next: 1, stop: make(chan struct{}), done: make(chan struct{})}
	f.cond = sync.NewCond(&f.mu)
	go f.applier()
	return f
}

func (f *fakeRaft) applier() {
	defer close(f.done)
	for {
		f.mu.Lock()
		for len(f.pending) == 0 && !f.dead {
			f.cond.Wait()
		}
		if f.dead {
			f.mu.Unlock()
			return
		}
		m := f.pending[0]
		f.pending = f.pending[1:]
		f.mu.Unlock()
		select {
		case f.applyCh <- m:
		case <-f.stop: // killed: the server may no longer read applyCh
			return
		}
	}
}

func (f *fakeRaft) Start(cmd any) (int, int, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	index := f.next
	f.next++
	if f.replace != nil {
		cmd, f.replace = f.replace, nil
	}
	f.pending = append(f.pending, raftapi.ApplyMsg{CommandValid: true, Command: cmd, CommandIndex: index})
	f.cond.Signal()
	return index, 1, true
}
func (f *fakeRaft) GetState() (int, bool) { return 1, true }
func (f *fakeRaft) Snapshot(index int, snapshot []byte) {
	f.persister.Save(nil, snapshot)
}
func (f *fakeRaft) PersistBytes() int { return 1 << 20 } // always over maxraftstate: snapshot after every apply
func (f *fakeRaft) Kill() {
	f.mu.Lock()
	if !f.dead {
		close(f.stop)
	}
	f.dead = true
	f.cond.Signal()
	f.mu.Unlock()
}

type memPersister struct {
	mu              sync.Mutex
	state, snapshot []byte
}

func (p *memPersister) Save(state, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.state, p.snapshot = append([]byte(nil), state...), append([]byte(nil), snapshot...)
}
func (p *memPersister) ReadRaftState() []byte { p.mu.Lock(); defer p.mu.Unlock(); return p.state }
func (p *memPersister) ReadSnapshot() []byte  { p.mu.Lock(); defer p.mu.Unlock(); return p.snapshot }
func (p *memPersister) RaftStateSize() int    { return len(p.ReadRaftState()) }
func (p *memPersister) SnapshotSize() int     { return len(p.ReadSnapshot()) }

// start starts a server over a fakeRaft on p.
func start(t *testing.T, p *memPersister) (*Server, *fakeRaft) {
	t.Helper()
	var f *fakeRaft
	mk := func(_ []raftapi.Peer, _ int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
		f = newFakeRaft(p.(*memPersister), applyCh)
		return f
	}
	s, err := StartServer(nil, 0, p, 100, mk)
	require.NoError(t, err)
	return s, f
}

func do(s *Server, op Op) Reply {
	var r Reply
	s.Do(&Args{Op: op}, &r)
	return r
}

func TestRetryAppliedOnceAcrossSnapshotAndRestart(t *testing.T) {
	p := &memPersister{}
	s, f := start(t, p)
	op := Op{Kind: Append, Key: "k", Value: "a", ClientID: 7, Seq: 1}
	require.Equal(t, OK, do(s, op).Err)
	require.Equal(t, OK, do(s, op).Err, "a retry is acknowledged")
	require.Equal(t, "a", do(s, Op{Kind: Get, Key: "k", ClientID: 7, Seq: 2}).Value, "and applied once")
	s.Kill()
	<-f.done

	// The snapshot carries the de-duplication table: after a restart
	// from it, the same retry is still not applied again.
	s2, f2 := start(t, p)
	defer func() { s2.Kill(); <-f2.done }()
	require.Equal(t, OK, do(s2, op).Err)
	require.Equal(t, "a", do(s2, Op{Kind: Get, Key: "k", ClientID: 7, Seq: 3}).Value)
}

func TestReplacedIndexIsNotAnswered(t *testing.T) {
	s, f := start(t, &memPersister{})
	defer func() { s.Kill(); <-f.done }()
	f.mu.Lock()
	f.replace = Op{Kind: Put, Key: "k", Value: "theirs", ClientID: 9, Seq: 1}
	f.mu.Unlock()
	r := do(s, Op{Kind: Put, Key: "k", Value: "mine", ClientID: 7, Seq: 1})
	require.Equal(t, ErrWrongLeader, r.Err, "another entry took the index: the request must not be told OK")
	require.Equal(t, "theirs", do(s, Op{Kind: Get, Key: "k", ClientID: 7, Seq: 2}).Value)
}

func TestBadRequestIsRefused(t *testing.T) {
	s, f := start(t, &memPersister{})
	defer func() { s.Kill(); <-f.done }()
	r := do(s, Op{Kind: 42, Key: "k"})
	require.Contains(t, string(r.Err), "ErrBadRequest")
}

func TestCorruptSnapshotIsAnError(t *testing.T) {
	p := &memPersister{snapshot: []byte("not a snapshot")}
	s, err := StartServer(nil, 3, p, 100, func([]raftapi.Peer, int, raftapi.Persister, chan raftapi.ApplyMsg) raftapi.Raft {
		t.Fatal("Make called despite a corrupt snapshot")
		return nil
	})
	require.Nil(t, s)
	require.ErrorContains(t, err, "server 3")
	require.Equal(t, []byte("not a snapshot"), p.ReadSnapshot(), "nothing persisted is touched")
}

func TestKillEndsRequestsInProgress(t *testing.T) { synctest.Test(t, killEndsRequests) }

func killEndsRequests(t *testing.T) {
	s, f := start(t, &memPersister{})
	f.mu.Lock()
	f.dead = true // commits nothing from now on
	f.mu.Unlock()
	done := make(chan Reply)
	go func() { done <- do(s, Op{Kind: Get, Key: "k", ClientID: 1, Seq: 1}) }()
	synctest.Wait() // the request waits for its entry
	s.Kill()
	synctest.Wait()
	select {
	case r := <-done:
		require.Equal(t, ErrKilled, r.Err)
	default:
		t.Fatal("a request in progress outlived Kill")
	}
}

func TestClerkGivesUpOnlyWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ck := MakeClerk([]raftapi.Peer{downPeer{}, downPeer{}})
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		begin := time.Now()
		_, err := ck.Do(ctx, Op{Kind: Get, Key: "k"})
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, 10*time.Second, time.Since(begin).Round(retryPause), "it retried until its context ended")
	})
}

type downPeer struct{}

func (downPeer) Call(string, any, any) bool { return false }

// inject has the fake Raft deliver m next, after what is pending.
func (f *fakeRaft) inject(m raftapi.ApplyMsg) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pending = append(f.pending, m)
	f.next = max(f.next, m.CommandIndex+1, m.SnapshotIndex+1)
	f.cond.Signal()
}

func TestEmptySnapshotFromRaftIsAnError(t *testing.T) {
	s, f := start(t, &memPersister{})
	defer func() { s.Kill(); <-f.done }()
	require.Equal(t, OK, do(s, Op{Kind: Put, Key: "k", Value: "v", ClientID: 1, Seq: 1}).Err)
	// An empty snapshot through index 5 would skip entries 2..5 if taken
	// for the initial state: the server must stop and say why.
	f.inject(raftapi.ApplyMsg{SnapshotValid: true, SnapshotIndex: 5, SnapshotTerm: 1})
	stopped := make(chan struct{})
	go func() { s.applier.Wait(); close(stopped) }()
	select {
	case <-stopped: // the applier stopped on the bad snapshot
	case <-time.After(10 * time.Second):
		t.Fatal("the applier took an empty snapshot past lastApplied and went on")
	}
	require.Equal(t, ErrKilled, do(s, Op{Kind: Get, Key: "k", ClientID: 1, Seq: 2}).Err)
	require.ErrorContains(t, s.Err(), "empty snapshot")
	require.ErrorContains(t, s.Err(), "index 5")
}

func TestForeignCommandChangesNothing(t *testing.T) {
	s, f := start(t, &memPersister{})
	defer func() { s.Kill(); <-f.done }()
	f.mu.Lock()
	f.replace = "another service's command"
	f.mu.Unlock()
	require.Equal(t, ErrWrongLeader, do(s, Op{Kind: Put, Key: "k", Value: "v", ClientID: 7, Seq: 1}).Err)
	require.Equal(t, "", do(s, Op{Kind: Get, Key: "k", ClientID: 7, Seq: 2}).Value)
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.last[0]
	require.False(t, ok, "a command that is not an Op was recorded as client 0's")
}

// serverPeer reaches s directly, as a network that never loses anything.
type serverPeer struct{ s *Server }

func (p serverPeer) Call(_ string, args, reply any) bool {
	p.s.Do(args.(*Args), reply.(*Reply))
	return true
}

func TestClerkStopsOnBadRequest(t *testing.T) {
	s, f := start(t, &memPersister{})
	defer func() { s.Kill(); <-f.done }()
	ck := MakeClerk([]raftapi.Peer{serverPeer{s}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := ck.Do(ctx, Op{Kind: 42, Key: "k"})
	require.NotErrorIs(t, err, context.DeadlineExceeded, "the clerk retried a request that can never succeed")
	require.ErrorContains(t, err, "ErrBadRequest: unknown operation kind 42")
}
