package raft

// A plain Raft in the style of a 6.5840 lab solution, written from
// Figure 2 of the paper: one mutex guards everything, a ticker goroutine
// starts elections and sends heartbeats, every RPC is sent from its own
// goroutine, and an applier goroutine delivers committed entries.
//
// raftspec uses it as a fixture: an implementation independent of its
// reference, checked by `raftspec check` as a student's would be.

import (
	"math/rand"
	"sync"
	"sync/atomic"
	"time"

	"6.5840/labrpc"
	"6.5840/raftapi"
	tester "6.5840/tester1"
)

type State int

const (
	Follower State = iota
	Candidate
	Leader
)

const (
	HeartbeatInterval  = 100 * time.Millisecond
	ElectionTimeoutMin = 300 * time.Millisecond
	ElectionTimeoutMax = 600 * time.Millisecond
)

type LogEntry struct {
	Term    int
	Command interface{}
}

type Raft struct {
	mu        sync.Mutex
	peers     []*labrpc.ClientEnd
	persister *tester.Persister
	me        int
	dead      int32
	done      chan struct{} // closed by Kill

	// Persistent state on all servers.
	currentTerm int
	votedFor    int // -1 if none
	// log[0] is a placeholder for the last entry in the snapshot:
	// log[i] has index lastIncludedIndex+i.
	log               []LogEntry
	lastIncludedIndex int
	lastIncludedTerm  int
	snapshot          []byte

	// Volatile state on all servers.
	commitIndex int
	lastApplied int

	// Volatile state on leaders, reinitialized after election.
	nextIndex  []int
	matchIndex []int

	state           State
	electionTimeout time.Time // when to start an election if no leader is heard

	applyCh         chan raftapi.ApplyMsg
	applyCond       *sync.Cond
	snapshotPending bool // an installed snapshot the applier has not delivered yet
}

// Log helpers. Indices are absolute; call with rf.mu held.

func (rf *Raft) lastLogIndex() int { return rf.lastIncludedIndex + len(rf.log) - 1 }

func (rf *Raft) lastLogTerm() int { return rf.log[len(rf.log)-1].Term }

func (rf *Raft) termAt(index int) int { return rf.log[index-rf.lastIncludedIndex].Term }

// entriesFrom returns a copy of the entries from index on.
func (rf *Raft) entriesFrom(index int) []LogEntry {
	return append([]LogEntry(nil), rf.log[index-rf.lastIncludedIndex:]...)
}

func (rf *Raft) resetElectionTimer() {
	d := ElectionTimeoutMin + time.Duration(rand.Int63n(int64(ElectionTimeoutMax-ElectionTimeoutMin)))
	rf.electionTimeout = time.Now().Add(d)
}

// becomeFollower moves to a newer term. The caller persists.
func (rf *Raft) becomeFollower(term int) {
	rf.state = Follower
	rf.currentTerm = term
	rf.votedFor = -1
}

// stepDownOnReply is Figure 2's rule for replies: a newer term makes us
// its follower (persisted), and the caller then ignores the reply.
func (rf *Raft) stepDownOnReply(term int) bool {
	if term <= rf.currentTerm {
		return false
	}
	rf.becomeFollower(term)
	rf.persist()
	return true
}

func (rf *Raft) GetState() (int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.currentTerm, rf.state == Leader
}

// Start proposes a command. It returns at once: the index the command
// will have if it is committed, the term, and whether this server is the
// leader.
func (rf *Raft) Start(command interface{}) (int, int, bool) {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	if rf.killed() || rf.state != Leader {
		return -1, rf.currentTerm, false
	}
	rf.log = append(rf.log, LogEntry{Term: rf.currentTerm, Command: command})
	rf.persist()
	rf.broadcastAppendEntries()
	return rf.lastLogIndex(), rf.currentTerm, true
}

// Kill stops the server: every goroutine it started ends soon after.
func (rf *Raft) Kill() {
	if atomic.SwapInt32(&rf.dead, 1) == 1 {
		return
	}
	close(rf.done)
	rf.mu.Lock()
	rf.applyCond.Broadcast()
	rf.mu.Unlock()
}

func (rf *Raft) killed() bool {
	return atomic.LoadInt32(&rf.dead) == 1
}

func (rf *Raft) PersistBytes() int {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	return rf.persister.RaftStateSize()
}

// ticker starts an election when no leader has been heard from in time,
// and sends heartbeats while this server leads.
func (rf *Raft) ticker() {
	for !rf.killed() {
		rf.mu.Lock()
		sleep := HeartbeatInterval
		if rf.state == Leader {
			rf.broadcastAppendEntries()
		} else if !time.Now().Before(rf.electionTimeout) {
			rf.startElection()
		} else if d := time.Until(rf.electionTimeout); d < sleep {
			sleep = d
		}
		rf.mu.Unlock()
		time.Sleep(sleep)
	}
}

// applier sends committed entries, and installed snapshots, on applyCh
// in order. It never holds rf.mu while sending: the service may call
// Snapshot in between.
func (rf *Raft) applier() {
	rf.mu.Lock()
	defer rf.mu.Unlock()
	for !rf.killed() {
		if rf.snapshotPending {
			rf.snapshotPending = false
			msg := raftapi.ApplyMsg{
				SnapshotValid: true,
				Snapshot:      rf.snapshot,
				SnapshotTerm:  rf.lastIncludedTerm,
				SnapshotIndex: rf.lastIncludedIndex,
			}
			if !rf.send(msg) {
				return
			}
			rf.lastApplied = max(rf.lastApplied, msg.SnapshotIndex)
		} else if rf.lastApplied < rf.commitIndex {
			first := rf.lastApplied + 1
			entries := append([]LogEntry(nil), rf.log[first-rf.lastIncludedIndex:rf.commitIndex-rf.lastIncludedIndex+1]...)
			for i, e := range entries {
				msg := raftapi.ApplyMsg{CommandValid: true, Command: e.Command, CommandIndex: first + i}
				if !rf.send(msg) {
					return
				}
				rf.lastApplied = max(rf.lastApplied, msg.CommandIndex)
				if rf.snapshotPending {
					break // the snapshot covers the rest
				}
			}
		} else {
			rf.applyCond.Wait()
		}
	}
}

// send delivers msg on applyCh with rf.mu released. It returns false if
// the server was killed instead.
func (rf *Raft) send(msg raftapi.ApplyMsg) bool {
	rf.mu.Unlock()
	defer rf.mu.Lock()
	select {
	case rf.applyCh <- msg:
		return true
	case <-rf.done:
		return false
	}
}

// Make creates a server. peers[me] is this server's own end; persister
// holds what an earlier incarnation saved; committed entries go to
// applyCh.
func Make(peers []*labrpc.ClientEnd, me int, persister *tester.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
	rf := &Raft{
		peers:     peers,
		persister: persister,
		me:        me,
		done:      make(chan struct{}),
		votedFor:  -1,
		log:       []LogEntry{{Term: 0}},
		applyCh:   applyCh,
	}
	rf.applyCond = sync.NewCond(&rf.mu)
	rf.readPersist(persister.ReadRaftState())
	rf.snapshot = persister.ReadSnapshot()
	// The service restarts from its snapshot itself.
	rf.commitIndex = rf.lastIncludedIndex
	rf.lastApplied = rf.lastIncludedIndex
	rf.resetElectionTimer()

	go rf.ticker()
	go rf.applier()
	return rf
}
