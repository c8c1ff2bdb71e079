package raft

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// The encoding kept between saves is the plain one: after any sequence of
// appends, truncations and compactions, a StateEncoder kept between saves
// writes the same bytes as EncodeState (the log encoded from scratch), and
// they decode to the log.
func TestIncrementalEncodingMatchesPlainTwin(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	r := newCoreNet(t, 3).nodes[0]
	r.currentTerm = 1
	var enc StateEncoder
	for step := range 2000 {
		// One to four changes between two saves, so that a truncation
		// followed by appends (an AppendEntries that repairs a log) falls
		// between saves too.
		for range 1 + rng.IntN(4) {
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
		}
		r.votedFor = rng.IntN(4) - 1
		got, err := enc.Encode(r.toPersist())
		require.NoError(t, err, "step %d", step)
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

// FuzzDecodeState: decodeState refuses what is not a state a node could
// have saved with an error wrapping ErrCorruptState, and reads back every
// state it accepts: encodeState writes it again and decodeState reads back
// the same state; a state read back as another would forget votes, entries
// or the snapshot's base (raft-bugs.md M14, M20). The seeds are a good
// state (at a snapshot base), its prefixes (each refused), every one-byte
// change of it, and fields out of range, among them an entry count of
// 1<<60. Run it with go test -run '^$' -fuzz FuzzDecodeState ./raft/
func FuzzDecodeState(f *testing.F) {
	r := &node{currentTerm: 3, votedFor: 2,
		log: raftLog{base: 4, baseTerm: 1, entries: []Entry{{Term: 1, Command: "a"}, {Term: 3, Command: 7}}}}
	good := r.encodeState()
	if _, err := decodeState(good, 0, 3); err != nil {
		f.Fatal(err)
	}
	f.Add(good)
	for i := range good {
		if _, err := decodeState(good[:i], 0, 3); i > 0 && !errors.Is(err, ErrCorruptState) {
			f.Fatalf("decodeState(prefix of %d bytes) = %v, want ErrCorruptState", i, err)
		}
		f.Add(good[:i])
		for _, b := range []byte{0, 0xff, good[i] ^ 0x80} {
			bad := slices.Clone(good)
			bad[i] = b
			f.Add(bad)
		}
	}
	// header is the magic and the five varint fields.
	header := func(term uint64, votedFor int64, base, baseTerm, n uint64) []byte {
		b := binary.AppendUvarint([]byte(stateMagic), term)
		b = binary.AppendVarint(b, votedFor)
		for _, v := range []uint64{base, baseTerm, n} {
			b = binary.AppendUvarint(b, v)
		}
		return b
	}
	gobEntries := good[len(header(3, 2, 4, 1, 2)):]
	for _, h := range [][]byte{
		header(3, 2, 4, 1, 1<<60),
		header(1<<40, 2, 4, 1, 2),
		header(math.MaxUint64, 2, 4, 1, 2),
		header(MaxTermOrIndex, 2, 4, 1, 2),
		header(3, 2, MaxTermOrIndex, 1, 2),
		header(3, 2, 4, 1, 1),
		header(3, 2, 4, 1, 3),
		header(3, 3, 4, 1, 2),
		header(3, None, 4, 1, 2),
		header(3, math.MinInt64, 4, 1, 2),
		header(2, 2, 4, 1, 2),
	} {
		f.Add(append(h, gobEntries...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st, err := decodeState(data, 0, 3)
		if err != nil {
			require.ErrorIs(t, err, ErrCorruptState)
			return
		}
		r := &node{currentTerm: st.Term, votedFor: st.VotedFor,
			log: raftLog{base: st.Base, baseTerm: st.BaseTerm, entries: st.Entries}}
		again, err := decodeState(r.encodeState(), 0, 3)
		require.NoError(t, err, "decodeState(encodeState(%+v))", st)
		requireSameState(t, st, again)
	})
}

// requireSameState compares two states field by field, and their entries
// by their gob encoding: what the persisted state can tell apart. (A NaN
// command is not reflect.DeepEqual to itself, and gob does not tell a nil
// slice from an empty one.)
func requireSameState(t *testing.T, want, got persistentState) {
	t.Helper()
	require.Equal(t, []int{want.Term, want.VotedFor, want.Base, want.BaseTerm},
		[]int{got.Term, got.VotedFor, got.Base, got.BaseTerm}, "term, votedFor, base, baseTerm")
	require.Len(t, got.Entries, len(want.Entries))
	for i := range want.Entries {
		require.Equal(t, gobOf(t, &want.Entries[i]), gobOf(t, &got.Entries[i]),
			"entry %d = %#v, want %#v", want.Base+1+i, got.Entries[i], want.Entries[i])
	}
}

func gobOf(t *testing.T, e *Entry) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, gob.NewEncoder(&b).Encode(e))
	return b.Bytes()
}
