package raft

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"math"
)

// PersistentState is what Figure 2 calls "persistent state on all
// servers", plus the snapshot's base (§7): what a Node hands out in
// Output.Persist for its caller to save, and what NewNode starts from.
// The core never encodes it: EncodeState (or a StateEncoder) makes the
// bytes to save, DecodeState reads them back.
type PersistentState struct {
	Term     int // currentTerm
	VotedFor int // the candidate voted for in Term, or None
	Base     int // the snapshot's last included index (0: no snapshot)
	BaseTerm int // the term of the entry at Base
	// Entries are the log's entries Base+1 .. Base+len(Entries). In an
	// Output they are the Node's own log, not a copy: read them (encode
	// them) before the next input.
	Entries []Entry
	// Unchanged says the entries through index Unchanged are those the
	// previous PersistentState the Node handed out held at the same
	// indexes (the first one counts from the state NewNode read): only
	// the entries after it were appended, overwritten or deleted since.
	// A StateEncoder keeps the encoding of the others. It is at least Base
	// only if that holds; 0 (as DecodeState and a hand-made state leave
	// it) promises nothing.
	Unchanged int
}

// check says whether st is a state a correct node could have saved; if
// not, the error wraps ErrCorruptState.
func (st *PersistentState) check(me, peers int) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("raft: n%d: %w: %s", me, ErrCorruptState, fmt.Sprintf(format, args...))
	}
	switch {
	case st.Term < 0 || st.Term > MaxTermOrIndex:
		return bad("term %d", st.Term)
	case st.VotedFor < None || st.VotedFor >= peers:
		return bad("votedFor %d in a cluster of %d", st.VotedFor, peers)
	case st.Base < 0 || st.Base > MaxTermOrIndex || st.BaseTerm < 0 || st.BaseTerm > st.Term:
		return bad("snapshot base %d/%d with term %d", st.Base, st.BaseTerm, st.Term)
	}
	last := st.BaseTerm
	for i, e := range st.Entries {
		if e.Term < last || e.Term > st.Term {
			return bad("entry %d has term %d after term %d (currentTerm %d)", st.Base+1+i, e.Term, last, st.Term)
		}
		last = e.Term
	}
	return nil
}

// summary is what st holds, for the persist-before-send check.
func (st *PersistentState) summary() durable {
	last := st.BaseTerm
	if k := len(st.Entries); k > 0 {
		last = st.Entries[k-1].Term
	}
	return durable{st.Term, st.VotedFor, st.Base + len(st.Entries), last, st.Base, st.BaseTerm}
}

// The persisted Raft state is
//
//	"RSS1" | term | votedFor | base | baseTerm | n   (varints)
//	       | entries base+1 .. base+n                (one gob stream)
//
// The lab's API saves the whole state on every change, so a log of n
// entries costs O(n) per save however it is encoded. What need not cost
// O(n) is the encoding: entries never change once written (a conflict
// truncates, it does not edit), so a StateEncoder keeps the gob stream of
// the entries between saves and encodes only the entries after
// PersistentState.Unchanged. A truncation or a new base starts the stream
// afresh. (Encoding the whole log with gob on every save made the churn
// scenarios quadratic: 75% of their time, and 100 s under the race
// detector.)
const stateMagic = "RSS1"

// StateEncoder encodes the PersistentStates one Node hands out, keeping
// the gob stream of the log's entries between calls. Use one per Node
// (a new one with each NewNode): Unchanged speaks of that Node's previous
// PersistentState. The zero value is ready to use.
type StateEncoder struct {
	base int // the stream holds the entries base+1 .. base+n
	n    int
	buf  bytes.Buffer
	enc  *gob.Encoder
}

// Encode returns the bytes to save for st, which DecodeState reads back.
// It fails only if gob cannot encode a command (an unregistered type;
// Node.Propose refuses those).
func (e *StateEncoder) Encode(st *PersistentState) ([]byte, error) {
	switch {
	case st == nil:
		return nil, errors.New("raft: no state to encode")
	case st.Term < 0 || st.Term > MaxTermOrIndex || st.Base < 0 || st.Base > MaxTermOrIndex ||
		st.BaseTerm < 0 || st.BaseTerm > st.Term || st.VotedFor < None:
		// What DecodeState would refuse: never write a state no node can
		// restart from.
		return nil, fmt.Errorf("raft: cannot encode a state no node could have: term %d, vote %d, base %d/%d", st.Term, st.VotedFor, st.Base, st.BaseTerm)
	}
	if e.enc == nil || st.Base != e.base || len(st.Entries) < e.n || st.Unchanged < st.Base+e.n {
		e.buf.Reset()
		e.enc, e.base, e.n = gob.NewEncoder(&e.buf), st.Base, 0
	}
	for i := e.n; i < len(st.Entries); i++ {
		if err := e.enc.Encode(&st.Entries[i]); err != nil {
			e.enc = nil // the stream is in an unknown state: start afresh next time
			return nil, fmt.Errorf("raft: cannot encode entry %d of the state: %w (register command types with gob.Register)", st.Base+1+i, err)
		}
		e.n++
	}
	b := make([]byte, 0, len(stateMagic)+5*binary.MaxVarintLen64+e.buf.Len())
	b = append(b, stateMagic...)
	b = binary.AppendUvarint(b, uint64(st.Term))
	b = binary.AppendVarint(b, int64(st.VotedFor))
	b = binary.AppendUvarint(b, uint64(st.Base))
	b = binary.AppendUvarint(b, uint64(st.BaseTerm))
	b = binary.AppendUvarint(b, uint64(len(st.Entries)))
	return append(b, e.buf.Bytes()...), nil
}

// EncodeState returns the bytes to save for st, encoding every entry: a
// StateEncoder kept between saves does the same in time proportional to
// what changed.
func EncodeState(st *PersistentState) ([]byte, error) {
	var e StateEncoder
	return e.Encode(st)
}

// ErrCorruptState: the persisted Raft state cannot be decoded, or decodes
// to a state no correct node could have saved.
var ErrCorruptState = errors.New("corrupt persisted Raft state")

// DecodeState reads what EncodeState wrote for node me of a cluster of
// peers. Empty data is a fresh node. Anything else that does not decode
// to a well-formed state is an error wrapping ErrCorruptState: it is
// never silently taken as an empty state, which would forget votes and
// entries (and so break Election Safety and Leader Completeness).
func DecodeState(data []byte, me, peers int) (*PersistentState, error) {
	if len(data) == 0 {
		return &PersistentState{VotedFor: None}, nil
	}
	var st PersistentState
	corrupt := func(format string, args ...any) (*PersistentState, error) {
		return nil, fmt.Errorf("raft: n%d: %w (%d bytes): %s", me, ErrCorruptState, len(data), fmt.Sprintf(format, args...))
	}
	if !bytes.HasPrefix(data, []byte(stateMagic)) {
		return corrupt("does not start with %q", stateMagic)
	}
	rd := bytes.NewReader(data[len(stateMagic):])
	var fields [5]int
	for k, name := range []string{"term", "votedFor", "base", "baseTerm", "entry count"} {
		var v int64
		var err error
		if k == 1 {
			v, err = binary.ReadVarint(rd)
		} else {
			var u uint64
			u, err = binary.ReadUvarint(rd)
			if u > MaxTermOrIndex {
				return corrupt("%s %d out of range", name, u)
			}
			v = int64(u)
		}
		if err != nil || v < math.MinInt32 {
			return corrupt("reading %s: %v", name, err)
		}
		fields[k] = int(v)
	}
	st.Term, st.VotedFor, st.Base, st.BaseTerm = fields[0], fields[1], fields[2], fields[3]
	n := fields[4]
	if n > rd.Len() {
		return corrupt("%d entries in %d bytes", n, rd.Len())
	}
	dec := gob.NewDecoder(rd)
	st.Entries = make([]Entry, 0, n)
	for i := range n {
		// Decode into a zero value: gob does not send zero fields.
		var e Entry
		if err := dec.Decode(&e); err != nil {
			return corrupt("entry %d of %d: %v", i+1, n, err)
		}
		st.Entries = append(st.Entries, e)
	}
	if rd.Len() != 0 {
		return corrupt("%d bytes after the last entry", rd.Len())
	}
	if err := st.check(me, peers); err != nil {
		return nil, err
	}
	return &st, nil
}

// encodable tells whether gob can encode a command, so that Node.Propose
// refuses one that could never be persisted. One encoder is kept, so each
// type's description is written once, not at every Propose.
type encodable struct{ enc *gob.Encoder }

func (p *encodable) ok(command any) bool {
	if p.enc == nil {
		p.enc = gob.NewEncoder(io.Discard)
	}
	if err := p.enc.Encode(&Entry{Command: command}); err != nil {
		p.enc = nil // an encoder that failed midway is not reused
		return false
	}
	return true
}
