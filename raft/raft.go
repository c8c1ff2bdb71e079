// Package raft is raftspec's reference Raft: the core (a deterministic
// state machine, core.go and replication.go: Figure 2 of the paper, rule by
// rule) and a driver that gives it the lab-style API (this file):
// Make(peers, me, persister, applyCh).
//
// The driver uses the core only through the Node contract (node.go): it
// holds one mutex around a *Node, runs one ticker goroutine and one
// applier goroutine, and sends each RPC from a goroutine of its own. After
// each input it carries out the Node's Output (encode and save, send,
// queue for the applier as raftapi.ApplyMsgs) and calls Advance. The lock is never held across a Call, nor
// while sending on applyCh.
package raft

import (
	"encoding/gob"
	"io"
	"log"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// Timing. The lab allows at most ten heartbeats a second and wants a new
// leader within five seconds of a failure; election timeouts of 300–600 ms
// leave room for several elections in that window.
const (
	tickInterval   = 10 * time.Millisecond
	heartbeatTicks = 10 // 100 ms
	electionTicks  = 30 // 300–600 ms
)

// Raft is one peer running the reference core.
type Raft struct {
	mu        sync.Mutex
	n         *Node
	me        int
	peers     []raftapi.Peer
	persister raftapi.Persister
	enc       StateEncoder // the Node's states, encoded for persister
	applyCh   chan raftapi.ApplyMsg
	applyCond *sync.Cond         // signalled when applyQ grows, and at Kill
	applyQ    []raftapi.ApplyMsg // handed out by the Node, not yet taken by the applier
	done      chan struct{}
	dead      bool
	err       error
	stats     Stats
}

var _ raftapi.Raft = (*Raft)(nil)

// Make is the lab API: it starts peer me of the cluster peers, from what
// persister holds. It returns at once; the peer runs in goroutines of its
// own until Kill.
//
// If the persisted state is corrupt, Make logs the error and returns a
// peer that takes no part (it never votes, leads or writes to persister,
// so nothing persisted is lost); Err reports why. Use New to get the
// error directly.
func Make(peers []raftapi.Peer, me int, persister raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
	rf, err := New(peers, me, persister, applyCh)
	if err != nil {
		log.Print(err)
	}
	return rf
}

// Harness is what a test harness may offer the driver through the
// Persister it passes to Make: the cluster's invariants Observer, where the
// core reports every transition when built with -tags invariants, and the
// seed of the driver's random choices (election timeouts), so that the
// seed a failure prints names them. tests.Persister has both; with any
// other Persister the core reports nowhere and the seed is random.
type Harness interface {
	Observer() any // an *invariants.Observer, or nil
	Seed() uint64
}

// New is Make with the error of a corrupt persisted state returned. The
// *Raft is never nil; on error it is inert.
func New(peers []raftapi.Peer, me int, persister raftapi.Persister, applyCh chan raftapi.ApplyMsg) (*Raft, error) {
	rf := &Raft{me: me, peers: peers, persister: persister, applyCh: applyCh, done: make(chan struct{})}
	rf.applyCond = sync.NewCond(&rf.mu)
	cfg := Config{ID: me, Peers: len(peers), ElectionTicks: electionTicks, HeartbeatTicks: heartbeatTicks}
	seed := rand.Uint64()
	if h, ok := persister.(Harness); ok {
		cfg.Observer = h.Observer()
		if s := h.Seed(); s != 0 { // 0: the harness has none to give
			seed = s
		}
	}
	cfg.Rand = rand.New(rand.NewPCG(seed, uint64(me))).IntN
	st, err := DecodeState(persister.ReadRaftState(), me, len(peers))
	var n *Node
	if err == nil {
		n, err = NewNode(cfg, st, persister.ReadSnapshot())
	}
	if err != nil {
		rf.err, rf.dead = err, true
		close(rf.done)
		return rf, err
	}
	rf.n = n
	go rf.ticker()
	go rf.applier()
	return rf, nil
}

// Stats returns the counts of the RPCs this peer sent, by kind and
// cause: where the RPCs go.
func (rf *Raft) Stats() Stats {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.stats
}

// Err is non-nil when the peer could not start from its persisted state,
// or when its Node found that the driver broke the contract (a bug).
func (rf *Raft) Err() error {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.err
}

// GetState returns currentTerm and whether this peer believes it leads.
func (rf *Raft) GetState() (int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.n == nil {
		return 0, false
	}
	st := rf.n.Status()
	return st.Term, st.Leader
}

// Start proposes command. It returns at once: the index the command will
// have if it commits, the current term, and whether this peer is leader.
// A command gob cannot encode (an unregistered type) is refused, since it
// could never be persisted.
func (rf *Raft) Start(command any) (int, int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.dead {
		return -1, 0, false
	}
	index, term, ok := rf.n.Propose(command)
	if !ok {
		if rf.n.Status().Leader { // the Node refused the command itself
			why := "gob cannot encode it (is its type registered?)"
			if err := gob.NewEncoder(io.Discard).Encode(&Entry{Command: command}); err != nil {
				why = err.Error()
			}
			log.Printf("raft: n%d: Start(%T) refused: %s", rf.me, command, why)
			return -1, 0, false
		}
		return index, term, false
	}
	rf.ready()
	return index, term, ok
}

// Snapshot tells the peer that the service's snapshot covers every entry
// through index, so the log may be trimmed (§7).
func (rf *Raft) Snapshot(index int, snapshot []byte) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.dead {
		return
	}
	if err := rf.n.Snapshot(index, snapshot); err != nil {
		log.Print(err)
		return
	}
	rf.ready()
}

// PersistBytes is the size of the persisted Raft state.
func (rf *Raft) PersistBytes() int { return rf.persister.RaftStateSize() }

// Kill stops the peer: the ticker and the applier end at once, an RPC in
// flight ends when its Call returns, and nothing is persisted or applied
// after Kill returns.
func (rf *Raft) Kill() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if !rf.dead {
		rf.dead = true
		close(rf.done)
	}
	rf.applyCond.Broadcast()
}

// ready carries out the Node's Output, with rf.mu held, in the order of
// the contract: save, then send, then hand what is to be applied to the
// applier; then Advance. Replies to an RPC handler's request are returned
// to it rather than sent.
func (rf *Raft) ready() (replies []Message) {
	if !rf.n.HasReady() {
		return nil
	}
	out := rf.n.Ready()
	if out.Err != nil {
		// A message would depend on state that is not saved: send
		// nothing, and stop, saying why (Err).
		rf.stop(out.Err)
		return nil
	}
	if out.Persist != nil {
		if !rf.save(out.Persist, out.Snapshot) {
			return nil
		}
	}
	for _, m := range out.Messages {
		switch m.Kind {
		case MsgRequestVoteReply, MsgAppendEntriesReply, MsgInstallSnapshotReply:
			replies = append(replies, m)
			continue
		}
		rf.stats.Calls[m.Kind][m.Cause()]++
		go rf.send(m)
	}
	if len(out.Apply) > 0 {
		for _, a := range out.Apply {
			rf.applyQ = append(rf.applyQ, applyMsg(a))
		}
		rf.applyCond.Signal()
	}
	if err := rf.n.Advance(); err != nil {
		// A bug of the driver: the Node says so; nothing to recover.
		log.Printf("raft: n%d: %v", rf.me, err)
		if rf.err == nil {
			rf.err = err
		}
	}
	return replies
}

// save encodes st and saves it with snapshot, with rf.mu held. If st
// cannot be encoded (a command of a type gob cannot encode: Start refuses
// those), nothing is saved and nothing may be sent: the peer stops, and
// Err says why; losing state silently would be worse.
func (rf *Raft) save(st *PersistentState, snapshot []byte) bool {
	b, err := rf.enc.Encode(st)
	if err != nil {
		rf.stop(err)
		return false
	}
	rf.persister.Save(b, snapshot)
	return true
}

// stop ends the peer, with rf.mu held, on an error it cannot go on from:
// nothing more is saved or sent, and Err says why.
func (rf *Raft) stop(err error) {
	log.Printf("raft: n%d: %v", rf.me, err)
	if rf.err == nil {
		rf.err = err
	}
	if !rf.dead {
		rf.dead = true
		close(rf.done)
	}
	rf.applyCond.Broadcast()
}

// applyMsg is the lab's ApplyMsg for what the Node handed out.
func applyMsg(a Apply) raftapi.ApplyMsg {
	if a.IsSnapshot {
		return raftapi.ApplyMsg{SnapshotValid: true, Snapshot: a.Snapshot, SnapshotTerm: a.Term, SnapshotIndex: a.Index}
	}
	return raftapi.ApplyMsg{CommandValid: true, Command: a.Command, CommandIndex: a.Index}
}

// handle runs an RPC request through the Node and returns its reply.
func (rf *Raft) handle(m Message) (Message, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.dead {
		return Message{}, false
	}
	m.To = rf.me
	if err := rf.n.Step(m); err != nil {
		// A malformed request gets a well-formed refusal.
		log.Printf("raft: n%d refused: %v", rf.me, err)
		return Message{Term: rf.n.Status().Term}, true
	}
	for _, r := range rf.ready() {
		if r.To == m.From {
			return r, true
		}
	}
	return Message{Term: rf.n.Status().Term}, true
}

// send makes one RPC, without the lock, and steps the reply.
func (rf *Raft) send(m Message) {
	resp, ok := rf.call(m)
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if !ok {
		rf.stats.Failed[m.Kind][m.Cause()]++
	}
	if rf.dead {
		return
	}
	if !ok {
		rf.n.Unreachable(m.To)
		return
	}
	if err := rf.n.Step(resp); err != nil {
		log.Printf("raft: n%d dropped a reply: %v", rf.me, err)
		return
	}
	rf.ready()
}

// ticker drives the core's clock.
func (rf *Raft) ticker() {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-rf.done:
			return
		case <-t.C:
		}
		rf.mu.Lock()
		if !rf.dead {
			rf.n.Tick()
			rf.ready()
		}
		rf.mu.Unlock()
	}
}

// applier is the one goroutine that sends on applyCh, in order, and never
// with rf.mu held: the service may call back into Raft (Snapshot, Start)
// while handling an ApplyMsg (raft-bugs.md M15). It takes what the Node
// handed out (applyQ) a batch at a time; a snapshot installed while a
// batch is being sent comes after it in the queue, as the Node hands out
// everything in order.
func (rf *Raft) applier() {
	for {
		rf.mu.Lock()
		for !rf.dead && len(rf.applyQ) == 0 {
			rf.applyCond.Wait()
		}
		msgs := rf.applyQ
		rf.applyQ = nil
		rf.mu.Unlock()
		for _, msg := range msgs {
			select {
			case rf.applyCh <- msg:
			case <-rf.done:
				return
			}
		}
		select {
		case <-rf.done:
			return
		default:
		}
	}
}
