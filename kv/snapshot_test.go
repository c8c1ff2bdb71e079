package kv

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSnapshotRoundTrip(t *testing.T) {
	data := map[string]string{"": "", "a": "x 1 2 y", "long": string(bytes.Repeat([]byte("z"), 300))}
	last := map[int64]applied{-5: {Seq: 3}, 1 << 60: {Seq: 1 << 40}}
	d, l, err := decodeState(encodeState(data, last))
	require.NoError(t, err)
	require.Equal(t, data, d)
	require.Equal(t, last, l)
}

// FuzzDecodeState: any bytes are refused with errCorruptSnapshot or read
// back to a state that encodes again to an equal state; never a panic.
func FuzzDecodeState(f *testing.F) {
	f.Add(encodeState(map[string]string{"k": "v"}, map[int64]applied{7: {Seq: 2}}))
	f.Add([]byte("KVS1"))
	f.Add([]byte("KVS1\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, l, err := decodeState(b)
		if err != nil {
			require.ErrorIs(t, err, errCorruptSnapshot)
			return
		}
		d2, l2, err := decodeState(encodeState(d, l))
		require.NoError(t, err)
		require.Equal(t, d, d2)
		require.Equal(t, l, l2)
	})
}

func TestCorruptSnapshotsAreRefused(t *testing.T) {
	good := encodeState(map[string]string{"k": "v"}, map[int64]applied{7: {Seq: 2}})
	for name, b := range map[string][]byte{
		"wrong magic":    append([]byte("XXXX"), good[4:]...),
		"truncated":      good[:len(good)-1],
		"trailing bytes": append(append([]byte(nil), good...), 0),
		"huge count":     []byte("KVS1\xff\xff\xff\xff\x0f"),
	} {
		_, _, err := decodeState(b)
		require.ErrorIs(t, err, errCorruptSnapshot, name)
	}
}

// BenchmarkSnapshot encodes the state of a KV suite's busiest scenario
// (20 keys of about 1.4 KB, 20 clients) with this encoding and with gob.
func BenchmarkSnapshot(b *testing.B) {
	data, last := map[string]string{}, map[int64]applied{}
	for i := range 20 {
		data[fmt.Sprint(i)] = string(bytes.Repeat([]byte("x 1 23 y"), 175))
		last[int64(i)*1e15] = applied{Seq: 150}
	}
	b.Run("encodeState", func(b *testing.B) {
		for b.Loop() {
			encodeState(data, last)
		}
	})
	b.Run("gob", func(b *testing.B) {
		for b.Loop() {
			var buf bytes.Buffer
			if err := gob.NewEncoder(&buf).Encode(struct {
				Data map[string]string
				Last map[int64]applied
			}{data, last}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
