package raft

import "sync"

// The tests of the core were written when it encoded its own state. These
// helpers keep their names: encodeState is what a caller would save for
// the node's state now (toPersist, then the node's own StateEncoder, as
// the driver keeps one per Node), decodeState reads it back as a value.

type persistentState = PersistentState

// encoders holds each node's StateEncoder (*node → *StateEncoder).
var encoders sync.Map

func (r *node) encodeState() []byte {
	e, ok := encoders.Load(r)
	if !ok {
		e, _ = encoders.LoadOrStore(r, new(StateEncoder))
	}
	b, err := e.(*StateEncoder).Encode(r.toPersist())
	if err != nil {
		panic(err)
	}
	return b
}

func decodeState(data []byte, me, peers int) (PersistentState, error) {
	st, err := DecodeState(data, me, peers)
	if err != nil {
		return PersistentState{}, err
	}
	return *st, nil
}
