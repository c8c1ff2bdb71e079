package kv

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// waitTimeout is how long Do waits for its operation to be applied
// before telling the clerk to try another server. A leader cut off in a
// minority accepts operations it can never commit; this bounds the wait.
// It is longer than a partition of the KV suite usually lasts, so a
// request often sees its fate decided: when the partition heals, the
// deposed leader applies the new leader's entries at the indices it had
// given its requests, and must tell each that it lost.
const waitTimeout = 2 * time.Second

// Server is one replica of the key/value service. Every operation, Get
// included, is proposed to Raft and takes effect when it is applied: a
// server that answered a Get from its own state could be a deposed leader
// that does not know it yet, and return a stale value (Raft paper §8).
type Server struct {
	me           int
	rf           raftapi.Raft
	applyCh      chan raftapi.ApplyMsg
	maxraftstate int // snapshot when Raft's persisted state reaches this many bytes; -1: never
	done         chan struct{}
	applier      sync.WaitGroup

	mu          sync.Mutex
	data        map[string]string
	last        map[int64]applied // per client, its last applied operation: a retried write with Seq ≤ last's is not applied again
	lastApplied int               // Invariant: every entry through lastApplied, and none after, is in data and last
	waiting     map[int]waiter    // by log index: the request that proposed there and waits for its result
	killed      bool
	err         error // why the replica stopped on its own
}

// applied is a client's last applied operation. Its result is known
// unless it was restored from a snapshot, which keeps only the Seq.
type applied struct {
	Seq   int64
	Value string // what a Get read
	known bool
}

// waiter is a request waiting for the entry it proposed at an index.
type waiter struct {
	op    Op
	reply chan Reply // buffered: the applier never blocks on it
}

// StartServer starts replica me: it makes its Raft with mk over peers and
// persister, restores the service from the persisted snapshot, and
// applies what Raft commits until Kill. With maxraftstate > 0 it asks
// Raft to snapshot whenever the persisted Raft state reaches that size.
//
// A persisted snapshot that cannot be decoded is an error naming the
// replica; nothing is started and nothing persisted is touched.
func StartServer(peers []raftapi.Peer, me int, persister raftapi.Persister, maxraftstate int, mk raftapi.MakeFunc) (*Server, error) {
	s := &Server{
		me:           me,
		applyCh:      make(chan raftapi.ApplyMsg),
		maxraftstate: maxraftstate,
		done:         make(chan struct{}),
		data:         map[string]string{},
		last:         map[int64]applied{},
		waiting:      map[int]waiter{},
	}
	if err := s.restore(persister.ReadSnapshot()); err != nil {
		return nil, fmt.Errorf("kv: server %d: persisted snapshot: %w", me, err)
	}
	s.rf = mk(peers, me, persister, s.applyCh)
	s.applier.Add(1)
	go s.apply()
	return s, nil
}

// Raft is the replica's Raft peer.
func (s *Server) Raft() raftapi.Raft { return s.rf }

// Kill stops the replica and its Raft. Requests in progress answer
// ErrKilled; Kill returns when the applier has ended.
func (s *Server) Kill() {
	s.mu.Lock()
	s.stopLocked()
	s.mu.Unlock()
	s.rf.Kill()
	s.applier.Wait()
}

func (s *Server) stopLocked() {
	if !s.killed {
		s.killed = true
		close(s.done)
	}
}

// Err says why the replica stopped on its own (a snapshot from Raft it
// could not decode), or nil.
func (s *Server) Err() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

// Do is the RPC handler: it proposes op and answers once op is applied.
// ErrWrongLeader means op was not applied through this server, or may
// have been but its result is unknown here: the clerk retries elsewhere,
// and the de-duplication table keeps a retried write from applying twice.
func (s *Server) Do(args *Args, reply *Reply) {
	op := args.Op
	if op.Kind < Get || op.Kind > Append {
		reply.Err = Err(fmt.Sprintf("%s: unknown operation kind %d", ErrBadRequest, op.Kind))
		return
	}
	// Raft is called without s.mu: an implementation that holds its own
	// lock while sending on applyCh would otherwise deadlock with apply.
	index, _, isLeader := s.rf.Start(op)
	if !isLeader {
		reply.Err = ErrWrongLeader
		return
	}
	w := waiter{op: op, reply: make(chan Reply, 1)}
	s.mu.Lock()
	if s.killed {
		s.mu.Unlock()
		reply.Err = ErrKilled
		return
	}
	if index <= s.lastApplied {
		// The entry was applied before we could wait for it. If it was
		// op (or an earlier proposal of op), the client's last applied
		// operation holds its result.
		a := s.last[op.ClientID]
		s.mu.Unlock()
		if a.known && a.Seq == op.Seq {
			reply.Err, reply.Value = OK, a.Value
		} else {
			reply.Err = ErrWrongLeader
		}
		return
	}
	if old, ok := s.waiting[index]; ok {
		// An earlier proposal at this index was overwritten (we lost
		// leadership and won it back): it will never be applied there.
		old.reply <- Reply{Err: ErrWrongLeader}
	}
	s.waiting[index] = w
	s.mu.Unlock()

	timeout := time.NewTimer(waitTimeout)
	defer timeout.Stop()
	select {
	case *reply = <-w.reply:
	case <-timeout.C:
		reply.Err = ErrWrongLeader
	case <-s.done:
		reply.Err = ErrKilled
	}
	s.mu.Lock()
	if cur, ok := s.waiting[index]; ok && cur.reply == w.reply {
		delete(s.waiting, index)
	}
	s.mu.Unlock()
}

// apply is the applier: it applies what Raft delivers, in order, answers
// the request waiting at each index, and snapshots when Raft's state
// grows past maxraftstate.
func (s *Server) apply() {
	defer s.applier.Done()
	for {
		var m raftapi.ApplyMsg
		var ok bool
		select {
		case m, ok = <-s.applyCh:
			if !ok {
				return // Raft closed applyCh on Kill
			}
		case <-s.done:
			return
		}
		s.mu.Lock()
		switch {
		case m.CommandValid && m.CommandIndex > s.lastApplied:
			s.lastApplied = m.CommandIndex
			op, isOp := m.Command.(Op)
			r := Reply{Err: ErrWrongLeader}
			if isOp {
				r = s.execute(op)
			}
			if w, ok := s.waiting[m.CommandIndex]; ok {
				delete(s.waiting, m.CommandIndex)
				if w.op.ClientID != op.ClientID || w.op.Seq != op.Seq {
					// Another leader's entry took the index: the request's
					// op was not applied here, whatever this entry did.
					r = Reply{Err: ErrWrongLeader}
				}
				w.reply <- r
			}
		case m.SnapshotValid && m.SnapshotIndex > s.lastApplied:
			err := errEmptySnapshot
			if len(m.Snapshot) > 0 {
				err = s.restore(m.Snapshot)
			}
			if err != nil {
				// Raft handed over a snapshot we cannot read. Applying
				// what follows it would be wrong: stop, and say why.
				s.err = fmt.Errorf("kv: server %d: snapshot at index %d from Raft: %w", s.me, m.SnapshotIndex, err)
				s.stopLocked()
				s.mu.Unlock()
				return
			}
			s.lastApplied = m.SnapshotIndex
			for i, w := range s.waiting {
				if i <= s.lastApplied {
					delete(s.waiting, i)
					w.reply <- Reply{Err: ErrWrongLeader}
				}
			}
		}
		s.mu.Unlock()
		s.maybeSnapshot()
	}
}

// execute applies op to the state, once per (ClientID, Seq), and returns
// its result. The applier does not call it for a command that is not an
// Op (another service's): such an entry changes nothing.
func (s *Server) execute(op Op) Reply {
	prev := s.last[op.ClientID]
	r := Reply{Err: OK}
	switch op.Kind {
	case Get:
		r.Value = s.data[op.Key]
	case Put, Append:
		if op.Seq <= prev.Seq {
			return r // a retry of a write already applied
		}
		if op.Kind == Put {
			s.data[op.Key] = op.Value
		} else {
			s.data[op.Key] += op.Value
		}
	}
	if op.Seq >= prev.Seq {
		s.last[op.ClientID] = applied{Seq: op.Seq, Value: r.Value, known: true}
	}
	return r
}

// maybeSnapshot hands Raft a snapshot of everything applied if its
// persisted state has reached maxraftstate. Raft is called without s.mu.
func (s *Server) maybeSnapshot() {
	if s.maxraftstate <= 0 || s.rf.PersistBytes() < s.maxraftstate {
		return
	}
	s.mu.Lock()
	index := s.lastApplied
	snapshot := encodeState(s.data, s.last)
	s.mu.Unlock()
	s.rf.Snapshot(index, snapshot)
}

// errEmptySnapshot: Raft handed over an empty snapshot past what was
// applied. This service never makes one, so applying it would silently
// skip the entries it claims to cover.
var errEmptySnapshot = errors.New("empty snapshot (this service never makes one)")

// restore replaces the state with snapshot's; an empty snapshot is the
// initial state (what StartServer reads from a fresh persister).
func (s *Server) restore(snapshot []byte) error {
	if len(snapshot) == 0 {
		return nil
	}
	data, last, err := decodeState(snapshot)
	if err != nil {
		return err
	}
	s.data, s.last = data, last
	return nil
}
