package raft

// The tests of the core were written when it encoded its own state. These
// helpers keep their names: encodeState is what a caller would save for
// the node's state now (toPersist, encoded from scratch with EncodeState),
// decodeState reads it back as a value.

type persistentState = PersistentState

func (r *node) encodeState() []byte {
	b, err := EncodeState(r.toPersist())
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
