package raft

import (
	"bytes"
	"encoding/gob"
	"errors"
	"fmt"
)

// persistentState is what Figure 2 calls "persistent state on all
// servers", plus the snapshot's base (§7): what a node reads back when it
// restarts.
type persistentState struct {
	Term     int
	VotedFor int
	Base     int
	BaseTerm int
	Entries  []Entry
}

// encodeState is the bytes the driver saves with the snapshot. It notes
// what they hold, so that persisted (called once they are saved) records
// what was really written, not what memory holds.
func (r *node) encodeState() []byte {
	var b bytes.Buffer
	st := persistentState{r.currentTerm, r.votedFor, r.log.base, r.log.baseTerm, r.log.entries}
	last := st.BaseTerm
	if k := len(st.Entries); k > 0 {
		last = st.Entries[k-1].Term
	}
	r.encoded = durable{st.Term, st.VotedFor, st.Base + len(st.Entries), last}
	if err := gob.NewEncoder(&b).Encode(&st); err != nil {
		// Only a command of a type gob cannot encode gets here; it is the
		// service's bug, and losing state silently would be worse.
		panic(fmt.Sprintf("raft: n%d cannot encode its state: %v (register command types with gob.Register)", r.id, err))
	}
	return b.Bytes()
}

// ErrCorruptState: the persisted Raft state cannot be decoded, or decodes
// to a state no correct node could have saved.
var ErrCorruptState = errors.New("corrupt persisted Raft state")

// decodeState reads what encodeState wrote. Empty data is a fresh node.
// Anything else that does not decode to a well-formed state is an error:
// it is never silently taken as an empty state, which would forget votes
// and entries (and so break Election Safety and Leader Completeness).
func decodeState(data []byte, me, peers int) (persistentState, error) {
	if len(data) == 0 {
		return persistentState{VotedFor: None}, nil
	}
	// Decode into a zero value: gob does not send zero fields, so a
	// prefilled VotedFor: None would survive the decoding of a vote for
	// n0 and forget it (the lab's labgob warns of exactly this).
	var st persistentState
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&st); err != nil {
		return st, fmt.Errorf("raft: n%d: %w (%d bytes): %v", me, ErrCorruptState, len(data), err)
	}
	bad := func(format string, args ...any) (persistentState, error) {
		return st, fmt.Errorf("raft: n%d: %w: %s", me, ErrCorruptState, fmt.Sprintf(format, args...))
	}
	switch {
	case st.Term < 0:
		return bad("term %d", st.Term)
	case st.VotedFor < None || st.VotedFor >= peers:
		return bad("votedFor %d in a cluster of %d", st.VotedFor, peers)
	case st.Base < 0 || st.BaseTerm < 0 || st.BaseTerm > st.Term:
		return bad("snapshot base %d/%d with term %d", st.Base, st.BaseTerm, st.Term)
	}
	last := st.BaseTerm
	for i, e := range st.Entries {
		if e.Term < last || e.Term > st.Term {
			return bad("entry %d has term %d after term %d (currentTerm %d)", st.Base+1+i, e.Term, last, st.Term)
		}
		last = e.Term
	}
	return st, nil
}
