package linearizability

import (
	"fmt"
	"hash/maphash"
	"maps"
	"sort"
	"strings"

	"github.com/anishathalye/porcupine"
)

// KVOp is the operation of a key/value call.
type KVOp uint8

const (
	Get    KVOp = iota // returns the key's value
	Put                // sets the key's value
	Append             // appends to the key's value
)

func (o KVOp) String() string {
	switch o {
	case Get:
		return "Get"
	case Put:
		return "Put"
	case Append:
		return "Append"
	}
	return fmt.Sprintf("KVOp(%d)", uint8(o))
}

// KVInput is the input of a key/value call. Value is ignored by Get.
type KVInput struct {
	Op         KVOp
	Key, Value string
}

// KVOutput is the output of a key/value call. Value is what a Get returned
// (Put and Append return nothing). Unknown says the call's outcome is unknown
// (it timed out): the model accepts any output for it, and a Put or Append
// takes effect where it is linearized. Such a call should return at infinity
// (as Call.Timeout records it), so that it may also never take effect. A nil
// output means the same as Unknown.
type KVOutput struct {
	Value   string
	Unknown bool
}

// KVModel is the sequential specification of a key/value store: Get, Put and
// Append over string keys and values, every key initially "". It partitions
// the history by key (linearizability is local, Herlihy & Wing: the history
// is linearizable iff each key's sub-history is; porcupine checks the parts
// apart, Horn & Kroening's P-compositionality), and its state is then the
// value of one key. It also bounds each Append by the Gets that must follow
// it (kvprune.go): the verdict is the same, but concurrent appends to one
// key, which the search could otherwise take forever to order, are ordered
// as they are made.
func KVModel() porcupine.Model {
	return porcupine.Model{
		Partition:      partitionKV,
		PartitionEvent: partitionKVEvents,
		Init:           func() any { return "" },
		Step: func(state, input, output any) (bool, any) {
			ok, v := stepKV(state.(string), kvInput(input), output)
			if b, bounded := input.(boundedAppend); ok && bounded && !strings.HasPrefix(b.bound, v) {
				return false, state // see kvprune.go
			}
			return ok, v
		},
		Equal:             func(a, b any) bool { return a.(string) == b.(string) },
		Hash:              func(s any) uint64 { return maphash.String(hashSeed, s.(string)) },
		DescribeOperation: describeKV, // shown as text
		// States are shown in tooltips as HTML.
		DescribeState: func(s any) string { return escapeHTML(shorten(s.(string))) },
	}
}

// KVModelUnpartitioned is KVModel without the partition by key: its state is
// the whole store. It exists to check KVModel against (the twin test) and to
// measure what partitioning saves; use KVModel.
func KVModelUnpartitioned() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return kvStore(nil) },
		Step: func(state, input, output any) (bool, any) {
			s, in := state.(kvStore), kvInput(input)
			ok, v := stepKV(s[in.Key], in, output)
			if !ok || in.Op == Get || v == s[in.Key] {
				return ok, s
			}
			next := maps.Clone(s) // Step must not change its state
			if next == nil {
				next = kvStore{}
			}
			if v == "" {
				delete(next, in.Key) // one representation per state, for Equal
			} else {
				next[in.Key] = v
			}
			return true, next
		},
		Equal:             func(a, b any) bool { return maps.Equal(a.(kvStore), b.(kvStore)) },
		Hash:              func(s any) uint64 { return s.(kvStore).hash() },
		DescribeOperation: describeKV,
		DescribeState:     func(s any) string { return escapeHTML(s.(kvStore).String()) },
	}
}

// stepKV steps one key whose value is v. A Get's output must be the value,
// unless it is unknown; a Put or Append changes the value whatever its
// output, since a timed-out write may have taken effect (and if it did not,
// the checker can linearize it last, where it changes nothing observed).
func stepKV(v string, in KVInput, output any) (bool, string) {
	switch in.Op {
	case Get:
		out, known := kvOutput(output)
		return !known || out.Value == v, v
	case Put:
		return true, in.Value
	case Append:
		return true, v + in.Value
	}
	panic(fmt.Sprintf("linearizability: KV operation %v", in.Op))
}

func kvInput(x any) KVInput {
	if b, ok := x.(boundedAppend); ok {
		return b.KVInput
	}
	in, ok := x.(KVInput)
	if !ok {
		panic(fmt.Sprintf("linearizability: KV model got an input of type %T, want KVInput", x))
	}
	return in
}

// kvOutput returns the output and whether it is known.
func kvOutput(x any) (KVOutput, bool) {
	if x == nil {
		return KVOutput{Unknown: true}, false
	}
	out, ok := x.(KVOutput)
	if !ok {
		panic(fmt.Sprintf("linearizability: KV model got an output of type %T, want KVOutput", x))
	}
	return out, !out.Unknown
}

// partitionKV groups the operations by key and bounds the Appends
// (kvprune.go).
func partitionKV(ops []porcupine.Operation) [][]porcupine.Operation {
	parts := partitionByKey(ops)
	for _, part := range parts {
		boundAppends(part)
	}
	return parts
}

// partitionByKey groups the operations by key, keys in order of first call.
func partitionByKey(ops []porcupine.Operation) [][]porcupine.Operation {
	var parts [][]porcupine.Operation
	index := map[string]int{}
	for _, op := range ops {
		k := kvInput(op.Input).Key
		i, ok := index[k]
		if !ok {
			i = len(parts)
			index[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

// partitionKVEvents groups the events by key; a return event goes with its
// call, which comes first.
func partitionKVEvents(events []porcupine.Event) [][]porcupine.Event {
	var parts [][]porcupine.Event
	index := map[string]int{}
	byID := map[int]int{}
	for _, e := range events {
		i, ok := byID[e.Id]
		if !ok || e.Kind == porcupine.CallEvent {
			k := kvInput(e.Value).Key
			if i, ok = index[k]; !ok {
				i = len(parts)
				index[k] = i
				parts = append(parts, nil)
			}
			byID[e.Id] = i
		}
		parts[i] = append(parts[i], e)
	}
	return parts
}

// describeKV reads like Get("x") → "1", Put("x", "1"), Append("x", "2") → ?.
func describeKV(input, output any) string {
	in := kvInput(input)
	out, known := kvOutput(output)
	switch {
	case !known:
		return describeKVInput(in) + " → ?"
	case in.Op == Get:
		return describeKVInput(in) + " → " + shorten(out.Value)
	}
	return describeKVInput(in)
}

func describeKVInput(in KVInput) string {
	if in.Op == Get {
		return fmt.Sprintf("Get(%s)", shorten(in.Key))
	}
	return fmt.Sprintf("%v(%s, %s)", in.Op, shorten(in.Key), shorten(in.Value))
}

// kvStore is the unpartitioned model's state. A key absent holds "".
type kvStore map[string]string

var hashSeed = maphash.MakeSeed()

// hash does not depend on the map's order: it sums the pairs' hashes.
func (s kvStore) hash() uint64 {
	var h uint64
	for k, v := range s {
		h += maphash.String(hashSeed, k+"\x00"+v)
	}
	return h
}

func (s kvStore) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", shorten(k), shorten(s[k]))
	}
	b.WriteString("}")
	return b.String()
}

// shorten quotes s, keeping the head and the tail of a long value: the tail
// of an appended-to value holds the latest appends.
func shorten(s string) string {
	const max, head, tail = 48, 12, 28
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	h, t := s[:head], s[len(s)-tail:]
	return fmt.Sprintf("%q…%q (%d bytes)", strings.ToValidUTF8(h, ""), strings.ToValidUTF8(t, ""), len(s))
}

// escapeHTML escapes what HTML text must not hold; quotes may stay.
var escapeHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace
