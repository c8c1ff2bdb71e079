package tests

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"reflect"
	"sync"
	"testing"
)

type gobEntry struct {
	Term    int
	Command any
}

type gobMsg struct {
	From, Term int
	Entries    []gobEntry
	Data       []byte
}

type gobOther struct{ Key, Value string }

func init() {
	gob.Register(gobOther{})
}

// decode, with its primed decoders, gives what a fresh decoder gives, for
// messages whose type definitions differ (interfaces holding different
// types, empty and full slices) and repeat, decoded concurrently; and a
// message that does not decode leaves no decoder behind to spoil the next.
func TestPrimedDecodeIsFreshDecode(t *testing.T) {
	msgs := []any{
		&gobMsg{From: 1, Term: 2},
		&gobMsg{From: 1, Term: 3, Entries: []gobEntry{{Term: 3, Command: 7}}},
		&gobMsg{From: 2, Term: 3, Entries: []gobEntry{{Term: 3, Command: "x"}, {Term: 3, Command: gobOther{"k", "v"}}}},
		&gobMsg{Term: 4, Entries: []gobEntry{{Term: 4, Command: gobOther{"a", "b"}}}, Data: []byte{1, 2, 3}},
		&gobOther{Key: "k"},
		&StormArgs{X: 5},
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range 200 {
				m := msgs[(g+k)%len(msgs)]
				b, err := encode(m)
				if err != nil {
					t.Error(err)
					return
				}
				want := reflect.New(reflect.TypeOf(m).Elem()).Interface()
				if err := gob.NewDecoder(bytes.NewReader(b)).Decode(want); err != nil {
					t.Error(err)
					return
				}
				got := reflect.New(reflect.TypeOf(m).Elem()).Interface()
				if err := decode(b, got); err != nil {
					t.Error(err)
					return
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("decode(%T) = %+v, want %+v", m, got, want)
					return
				}
			}
		}()
	}
	wg.Wait()

	// A corrupt value after known definitions fails, and the next good
	// message still decodes.
	b, _ := encode(msgs[1])
	defs, _, ok := splitTypeDefs(b)
	if !ok {
		t.Fatal("splitTypeDefs failed on a fresh encoder's message")
	}
	bad := append(append([]byte(nil), defs...), 5, 0xff, 0xff, 0xff, 0xff, 0xff)
	if err := decode(bad, new(gobMsg)); err == nil {
		t.Error("a corrupt value decoded without error")
	}
	var got gobMsg
	if err := decode(b, &got); err != nil || fmt.Sprint(got) != fmt.Sprint(*msgs[1].(*gobMsg)) {
		t.Errorf("after a corrupt message: decode = %+v, %v; want %+v", got, err, msgs[1])
	}
}
