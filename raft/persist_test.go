package raft

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// The encoding kept between saves is the plain one: after any sequence of
// appends, truncations and compactions, encodeState writes the same bytes
// as a node that encodes its log from scratch, and they decode to the log.
func TestIncrementalEncodingMatchesPlainTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := newCoreNet(t, 3).nodes[0]
	r.currentTerm = 1
	for step := range 2000 {
		switch k := rng.IntN(10); {
		case k < 6:
			if rng.IntN(20) == 0 {
				r.currentTerm++
			}
			r.log.append(Entry{Term: r.currentTerm, Command: rng.IntN(1000)})
		case k < 8 && r.log.lastIndex() > r.log.base:
			r.log.truncate(r.log.base + 1 + rng.IntN(r.log.lastIndex()-r.log.base))
		case k < 9 && r.log.lastIndex() > r.log.base:
			r.log.compact(r.log.base + 1 + rng.IntN(r.log.lastIndex()-r.log.base))
		default:
			r.log.restoreBase(r.log.lastIndex()+rng.IntN(3), r.currentTerm)
		}
		r.votedFor = rng.IntN(4) - 1
		got := r.encodeState()
		twin := &node{id: r.id, currentTerm: r.currentTerm, votedFor: r.votedFor,
			log: raftLog{base: r.log.base, baseTerm: r.log.baseTerm, entries: r.log.entries}}
		require.Equal(t, twin.encodeState(), got, "step %d", step)
		st, err := decodeState(got, 0, 3)
		require.NoError(t, err, "step %d", step)
		require.Equal(t, r.log.base, st.Base)
		require.Equal(t, r.log.baseTerm, st.BaseTerm)
		require.Equal(t, r.votedFor, st.VotedFor)
		require.Equal(t, len(r.log.entries), len(st.Entries))
		for i, e := range st.Entries {
			require.Equal(t, r.log.entries[i], e, "step %d entry %d", step, i)
		}
	}
}

// Every prefix of a good state, and every one-byte change of it, is
// refused with ErrCorruptState or decodes to a well-formed state; never a
// panic.
func TestDecodeStateNeverPanics(t *testing.T) {
	r := newCoreNet(t, 3).nodes[0]
	r.currentTerm, r.votedFor = 3, 2
	r.log.append(Entry{Term: 1, Command: "a"}, Entry{Term: 3, Command: 7})
	data := r.encodeState()
	for i := range data {
		_, err := decodeState(data[:i], 0, 3)
		if i > 0 {
			require.ErrorIs(t, err, ErrCorruptState, "prefix of %d bytes", i)
		}
		for _, b := range []byte{0, 0xff, data[i] ^ 0x80} {
			bad := append([]byte(nil), data...)
			bad[i] = b
			if _, err := decodeState(bad, 0, 3); err != nil {
				require.ErrorIs(t, err, ErrCorruptState)
			}
		}
	}
}
