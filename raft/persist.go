package raft

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"math"
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

// The persisted Raft state is
//
//	"RSS1" | term | votedFor | base | baseTerm | n   (varints)
//	       | entries base+1 .. base+n                (one gob stream)
//
// The lab's API saves the whole state on every change, so a log of n
// entries costs O(n) per save however it is encoded. What need not cost
// O(n) is the encoding: entries never change once written (a conflict
// truncates, it does not edit), so the gob stream of the entries is kept
// between saves (entryCodec) and only the entries appended since the last
// save are encoded. A truncation or a new base starts the stream afresh.
// (Encoding the whole log with gob on every save made the churn scenarios
// quadratic: 75% of their time, and 100 s under the race detector.)
const stateMagic = "RSS1"

// entryCodec is the gob stream of the entries base+1 .. base+n as last
// encoded.
type entryCodec struct {
	base int
	n    int
	buf  bytes.Buffer
	enc  *gob.Encoder
}

// encode brings the stream up to entries (the log after base), given the
// lowest index changed since the last call (0: none).
func (c *entryCodec) encode(base int, entries []Entry, changedFrom int) error {
	if c.enc == nil || base != c.base || len(entries) < c.n || changedFrom != 0 && changedFrom <= base+c.n {
		c.buf.Reset()
		c.enc, c.base, c.n = gob.NewEncoder(&c.buf), base, 0
	}
	for i := c.n; i < len(entries); i++ {
		if err := c.enc.Encode(&entries[i]); err != nil {
			c.enc = nil // the stream is in an unknown state: start afresh next time
			return err
		}
		c.n++
	}
	return nil
}

// encodeState is the bytes the driver saves with the snapshot. It notes
// what they hold, so that persisted (called once they are saved) records
// what was really written, not what memory holds.
func (r *node) encodeState() []byte {
	st := persistentState{r.currentTerm, r.votedFor, r.log.base, r.log.baseTerm, r.log.entries}
	last := st.BaseTerm
	if k := len(st.Entries); k > 0 {
		last = st.Entries[k-1].Term
	}
	r.encoded = durable{st.Term, st.VotedFor, st.Base + len(st.Entries), last}
	if err := r.codec.encode(st.Base, st.Entries, r.log.unsavedFrom); err != nil {
		// Only a command of a type gob cannot encode gets here (Start
		// refuses those); losing state silently would be worse.
		panic(fmt.Sprintf("raft: n%d cannot encode its state: %v (register command types with gob.Register)", r.id, err))
	}
	r.log.unsavedFrom = 0
	b := make([]byte, 0, len(stateMagic)+5*binary.MaxVarintLen64+r.codec.buf.Len())
	b = append(b, stateMagic...)
	b = binary.AppendUvarint(b, uint64(st.Term))
	b = binary.AppendVarint(b, int64(st.VotedFor))
	b = binary.AppendUvarint(b, uint64(st.Base))
	b = binary.AppendUvarint(b, uint64(st.BaseTerm))
	b = binary.AppendUvarint(b, uint64(len(st.Entries)))
	return append(b, r.codec.buf.Bytes()...)
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
	var st persistentState
	corrupt := func(format string, args ...any) (persistentState, error) {
		return st, fmt.Errorf("raft: n%d: %w (%d bytes): %s", me, ErrCorruptState, len(data), fmt.Sprintf(format, args...))
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
