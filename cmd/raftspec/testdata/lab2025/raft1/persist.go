package raft

// Persistence (Figure 2: "updated on stable storage before responding to
// RPCs"): the term, the vote and the log, with the snapshot beside them.

import (
	"bytes"
	"log"

	"6.5840/labgob"
)

// persist saves the persistent state and the snapshot. Called with rf.mu
// held, before anything that depends on the state is sent.
func (rf *Raft) persist() {
	w := new(bytes.Buffer)
	e := labgob.NewEncoder(w)
	if e.Encode(rf.currentTerm) != nil ||
		e.Encode(rf.votedFor) != nil ||
		e.Encode(rf.lastIncludedIndex) != nil ||
		e.Encode(rf.lastIncludedTerm) != nil ||
		e.Encode(rf.log) != nil {
		log.Fatalf("server %d: persist: encoding failed", rf.me)
	}
	rf.persister.Save(w.Bytes(), rf.snapshot)
}

// readPersist restores what persist saved; nothing saved is a fresh start.
func (rf *Raft) readPersist(data []byte) {
	if len(data) == 0 {
		return
	}
	d := labgob.NewDecoder(bytes.NewBuffer(data))
	var currentTerm, votedFor, lastIncludedIndex, lastIncludedTerm int
	var entries []LogEntry
	if d.Decode(&currentTerm) != nil ||
		d.Decode(&votedFor) != nil ||
		d.Decode(&lastIncludedIndex) != nil ||
		d.Decode(&lastIncludedTerm) != nil ||
		d.Decode(&entries) != nil {
		log.Fatalf("server %d: readPersist: the saved state does not decode", rf.me)
	}
	rf.currentTerm = currentTerm
	rf.votedFor = votedFor
	rf.lastIncludedIndex = lastIncludedIndex
	rf.lastIncludedTerm = lastIncludedTerm
	rf.log = entries
}
