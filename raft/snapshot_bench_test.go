package raft

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// Memory under compaction: three drivers (Make, goroutines, the lab API)
// joined by direct calls, each under a service that snapshots every ten
// commands, as the lab's 3D tester does. What must stay bounded is the
// persisted Raft state (the lab's 2,000 bytes) and the heap.

// directPeer calls the handlers of another Raft in the same process.
// Arguments are shared, not copied: every handler only reads them, and the
// entries it keeps are copied into its log.
type directPeer struct {
	to   *atomic.Pointer[Raft]
	down *atomic.Bool // the peer is cut off: calls to and from it fail
	from *atomic.Bool
}

func (p directPeer) Call(method string, args, reply any) bool {
	rf := p.to.Load()
	if rf == nil || p.down.Load() || p.from.Load() {
		return false
	}
	switch method {
	case "Raft.RequestVote":
		rf.RequestVote(args.(*RequestVoteArgs), reply.(*RequestVoteReply))
	case "Raft.AppendEntries":
		rf.AppendEntries(args.(*AppendEntriesArgs), reply.(*AppendEntriesReply))
	case "Raft.InstallSnapshot":
		rf.InstallSnapshot(args.(*InstallSnapshotArgs), reply.(*InstallSnapshotReply))
	default:
		return false
	}
	return true
}

// counterService is the service above one peer: its state is the number
// of commands applied and a running hash of them, so its snapshot has a
// constant size (16 bytes) and any growth of the heap is Raft's.
type counterService struct {
	rf        *Raft
	applyCh   chan raftapi.ApplyMsg
	done      chan struct{}
	exited    chan struct{}
	applied   atomic.Int64
	installed atomic.Int64  // snapshots received on applyCh
	notify    chan struct{} // pinged after each apply

	mu   sync.Mutex
	hash uint64
	err  error
}

func encodeCounter(index int, hash uint64) []byte {
	b := binary.LittleEndian.AppendUint64(nil, uint64(index))
	return binary.LittleEndian.AppendUint64(b, hash)
}

func (s *counterService) fail(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = fmt.Errorf(format, args...)
	}
}

// run applies until done, with the lab tester's checks: commands in
// order, a snapshot only forward and holding the index it claims. It
// calls Snapshot from the goroutine that receives on applyCh, as the lab's
// service does: Raft must not hold its lock while sending.
func (s *counterService) run() {
	defer close(s.exited)
	for {
		var m raftapi.ApplyMsg
		select {
		case m = <-s.applyCh:
		case <-s.done:
			return
		}
		last := int(s.applied.Load())
		switch {
		case m.SnapshotValid:
			if len(m.Snapshot) != 16 {
				s.fail("snapshot of %d bytes", len(m.Snapshot))
				continue
			}
			index := int(binary.LittleEndian.Uint64(m.Snapshot))
			if index != m.SnapshotIndex || index <= last {
				s.fail("snapshot delivered as %d decodes to %d, after %d applied", m.SnapshotIndex, index, last)
				continue
			}
			s.mu.Lock()
			s.hash = binary.LittleEndian.Uint64(m.Snapshot[8:])
			s.mu.Unlock()
			s.applied.Store(int64(index))
			s.installed.Add(1)
		case m.CommandValid:
			if m.CommandIndex != last+1 {
				s.fail("apply out of order %d (want index %d)", m.CommandIndex, last+1)
				continue
			}
			s.mu.Lock()
			s.hash = s.hash*1099511628211 + uint64(m.Command.(int))
			hash := s.hash
			s.mu.Unlock()
			s.applied.Store(int64(m.CommandIndex))
			if m.CommandIndex%10 == 0 {
				s.rf.Snapshot(m.CommandIndex, encodeCounter(m.CommandIndex, hash))
			}
		}
		select {
		case s.notify <- struct{}{}:
		default:
		}
	}
}

// memCluster is three peers and their services.
type memCluster struct {
	rafts     []atomic.Pointer[Raft]
	cut       []atomic.Bool
	svc       []*counterService
	persist   []*lockedPersister
	leader    int
	nextCmd   int
	peakBytes int // the largest PersistBytes seen after any commit
}

// lockedPersister is memPersister safe for the driver's goroutines and
// the benchmark's reads.
type lockedPersister struct {
	mu sync.Mutex
	memPersister
}

func (p *lockedPersister) Save(state, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.memPersister.Save(state, snapshot)
}
func (p *lockedPersister) ReadRaftState() []byte { p.mu.Lock(); defer p.mu.Unlock(); return p.state }
func (p *lockedPersister) ReadSnapshot() []byte  { p.mu.Lock(); defer p.mu.Unlock(); return p.snapshot }
func (p *lockedPersister) RaftStateSize() int    { p.mu.Lock(); defer p.mu.Unlock(); return len(p.state) }
func (p *lockedPersister) SnapshotSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.snapshot)
}

func newMemCluster() *memCluster {
	const n = 3
	c := &memCluster{rafts: make([]atomic.Pointer[Raft], n), cut: make([]atomic.Bool, n), nextCmd: 1}
	for i := range n {
		peers := make([]raftapi.Peer, n)
		for j := range n {
			peers[j] = directPeer{to: &c.rafts[j], down: &c.cut[j], from: &c.cut[i]}
		}
		s := &counterService{applyCh: make(chan raftapi.ApplyMsg), done: make(chan struct{}),
			exited: make(chan struct{}), notify: make(chan struct{}, 1)}
		p := &lockedPersister{}
		rf, err := New(peers, i, p, s.applyCh)
		if err != nil {
			panic(err)
		}
		s.rf = rf
		c.rafts[i].Store(rf)
		c.svc = append(c.svc, s)
		c.persist = append(c.persist, p)
		go s.run()
	}
	return c
}

// kill stops every peer and service; Kill must end the peer's goroutines.
func (c *memCluster) kill() {
	for i := range c.svc {
		c.rafts[i].Load().Kill()
		close(c.svc[i].done)
		<-c.svc[i].exited
	}
}

func (c *memCluster) err() error {
	for i, s := range c.svc {
		s.mu.Lock()
		err := s.err
		s.mu.Unlock()
		if err != nil {
			return fmt.Errorf("n%d: %v", i, err)
		}
	}
	return nil
}

// commit starts k commands on the leader and waits until its service
// applied the last; on a change of leader it finds the new one and starts
// again. It returns the leader's applied index. Followers learn of the
// commit with the leader's next message, and may lag.
func (c *memCluster) commit(k int) (int, error) {
	for {
		if err := c.err(); err != nil {
			return 0, err
		}
		rf := c.rafts[c.leader].Load()
		last, ok := -1, true
		for range k {
			var idx int
			if idx, _, ok = rf.Start(c.nextCmd); !ok {
				break
			}
			c.nextCmd++
			last = idx
		}
		if ok && c.waitApplied(c.leader, last) {
			break
		}
		c.findLeader()
	}
	for i := range c.persist {
		c.peakBytes = max(c.peakBytes, c.rafts[i].Load().PersistBytes())
	}
	return int(c.svc[c.leader].applied.Load()), nil
}

// settle waits until the service of every server not cut off has applied
// what the leader's has, as the lab's one() waits for all servers, and
// returns the largest PersistBytes then. Only what a service has
// snapshotted can be trimmed, so this is where the lab bounds the size.
func (c *memCluster) settle() (int, error) {
	index := int(c.svc[c.leader].applied.Load())
	for i := range c.svc {
		if !c.cut[i].Load() && !c.waitApplied(i, index) {
			return 0, fmt.Errorf("n%d applied %d, the leader %d", i, c.svc[i].applied.Load(), index)
		}
	}
	size := 0
	for i := range c.persist {
		size = max(size, c.rafts[i].Load().PersistBytes())
	}
	return size, nil
}

// waitApplied waits for server i's service to apply index; false if it
// takes longer than an election timeout (the leader may have changed).
func (c *memCluster) waitApplied(i, index int) bool {
	s := c.svc[i]
	timeout := time.After(time.Second)
	for int(s.applied.Load()) < index {
		select {
		case <-s.notify:
		case <-timeout:
			return false
		}
	}
	return true
}

func (c *memCluster) findLeader() {
	for {
		for i := range c.rafts {
			if _, isLeader := c.rafts[i].Load().GetState(); isLeader && !c.cut[i].Load() {
				c.leader = i
				return
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func heapAlloc() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// BenchmarkSnapshotMemory commits 100,000 commands, 10 at a time, on
// three peers whose services snapshot every 10. Every 10,000 it lets the
// followers catch up and samples the largest PersistBytes and the heap
// (after a GC). It reports the largest sampled PersistBytes (the lab's
// bound is 2,000), the largest PersistBytes seen between samples (a
// follower whose service lags cannot trim; informative), and the heap at
// the first and last samples: a flat heap means compaction releases what
// it discards (raft-bugs.md M21). One op is the whole run:
//
//	go test -run XXX -bench SnapshotMemory -benchtime 1x -count 3 ./raft/
func BenchmarkSnapshotMemory(b *testing.B) {
	const commits, every = 100_000, 10_000
	for b.Loop() {
		c := newMemCluster()
		c.findLeader()
		var heap []uint64
		size := 0
		t0 := time.Now()
		var paused time.Duration
		for next := every; next <= commits; {
			applied, err := c.commit(10)
			if err != nil {
				b.Fatal(err)
			}
			if applied < next {
				continue
			}
			p0 := time.Now()
			b.StopTimer()
			sz, err := c.settle()
			if err != nil {
				b.Fatal(err)
			}
			size = max(size, sz)
			heap = append(heap, heapAlloc())
			b.StartTimer()
			paused += time.Since(p0)
			next += every
		}
		elapsed := time.Since(t0) - paused
		c.kill()
		if size >= 2000 {
			b.Fatalf("PersistBytes reached %d with the followers caught up, want < 2000", size)
		}
		kib := make([]string, len(heap))
		for i, h := range heap {
			kib[i] = fmt.Sprint(h / 1024)
		}
		b.Logf("heap KiB every %d commits: %s", every, strings.Join(kib, " "))
		b.ReportMetric(float64(size), "persist-B")
		b.ReportMetric(float64(c.peakBytes), "persist-B-peak")
		b.ReportMetric(float64(heap[0])/1024, "heap-KiB@10k")
		b.ReportMetric(float64(heap[len(heap)-1])/1024, "heap-KiB@100k")
		b.ReportMetric(float64(slices.Max(heap))/1024, "heap-KiB-max")
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(commits), "ns/commit")
	}
}

// TestSnapshotMemoryBounded is the benchmark's scenario in virtual time,
// smaller, with a follower cut off for 250 commands in every 500, so that
// it must be brought back with InstallSnapshot: with the followers caught
// up, the persisted state stays under the lab's 2,000 bytes; every service
// applies in order and ends in the same state; Snapshot is called from the
// goroutine that receives on applyCh without deadlock; and Kill ends every
// goroutine (synctest would report one left).
func TestSnapshotMemoryBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := newMemCluster()
		c.findLeader()
		size := 0
		commit := func(batches int) {
			t.Helper()
			for range batches {
				if _, err := c.commit(10); err != nil {
					t.Fatal(err)
				}
			}
			sz, err := c.settle()
			if err != nil {
				t.Fatal(err)
			}
			size = max(size, sz)
		}
		for round := 1; round <= 6; round++ {
			victim := (c.leader + 1 + round%2) % 3
			c.cut[victim].Store(true)
			commit(25)
			c.cut[victim].Store(false)
			commit(25)
		}
		// Everyone catches up, the victims from the leader's snapshot.
		commit(1)
		last := int(c.svc[c.leader].applied.Load())
		c.kill()
		if last < 3000 {
			t.Errorf("committed %d, want >= 3000", last)
		}
		if size >= 2000 {
			t.Errorf("PersistBytes reached %d with the followers caught up, want < 2000", size)
		}
		for i, s := range c.svc {
			if got := s.applied.Load(); got != int64(last) {
				t.Errorf("n%d applied %d, want %d", i, got, last)
			}
			if s.hash != c.svc[0].hash {
				t.Errorf("n%d ends with state %x, n0 with %x", i, s.hash, c.svc[0].hash)
			}
		}
		installed := 0
		for _, s := range c.svc {
			installed += int(s.installed.Load())
		}
		if installed == 0 {
			t.Errorf("no service received a snapshot: the victims were not brought back with InstallSnapshot")
		}
		t.Logf("committed %d; PersistBytes at most %d caught up, %d at any time; %d snapshots installed", last, size, c.peakBytes, installed)
	})
}
