package linearizability

import (
	"math"
	"sort"

	"github.com/anishathalye/porcupine"
)

// Appends with no read in between are the hard case of the search: the
// orders of n concurrent appends give n! distinct values, so porcupine's
// cache of (operations linearized, state) does not help, and a wrong order
// shows only at the next read. Lab tests do exactly this (UnreliableOneKey:
// five clients append to one key, one Get at the end).
//
// KVModel's Partition therefore bounds what an Append may leave, from the
// real-time order alone: if every Put on the key returned before the Append
// was called, no Put can be linearized after it and the value only grows
// from then on. The value it leaves is then a prefix of the value of every
// Get called after it returned, since those Gets are linearized after it.
// Step refuses an Append that breaks its bound. That removes no valid
// linearization, so the verdict is the same (the twin test checks it
// against KVModelUnpartitioned, which has no bounds), but a wrong order of
// appends is refused as it is made.
//
// The price is in the explanation: the search stops at the first Append
// the bounds refuse, so the longest partial linearization ends before it,
// empty when that Append is the first. On Illegal, Check therefore searches
// again without the bounds for a while (withoutBounds), and explains from
// that search if it finishes.

// boundedAppend is an Append with the shortest value returned by a Get
// called after it returned.
type boundedAppend struct {
	KVInput
	get   int    // the Get's client
	bound string // its value
}

// boundAppends bounds the Appends of one key's operations, in place.
func boundAppends(part []porcupine.Operation) {
	lastPut := int64(math.MinInt64)
	var gets []porcupine.Operation
	for _, op := range part {
		switch in := kvInput(op.Input); {
		case in.Op == Put:
			lastPut = max(lastPut, op.Return)
		case in.Op == Get:
			if _, known := kvOutput(op.Output); known {
				gets = append(gets, op)
			}
		}
	}
	if len(gets) == 0 {
		return
	}
	sort.Slice(gets, func(i, j int) bool { return gets[i].Call < gets[j].Call })
	// shortest[i] is the index of the shortest value among gets[i:].
	shortest := make([]int, len(gets))
	for i := len(gets) - 1; i >= 0; i-- {
		shortest[i] = i
		if i+1 < len(gets) && len(value(gets[shortest[i+1]])) < len(value(gets[i])) {
			shortest[i] = shortest[i+1]
		}
	}
	for j, op := range part {
		in, ok := op.Input.(KVInput)
		if !ok || in.Op != Append || op.Call <= lastPut {
			continue
		}
		k := sort.Search(len(gets), func(i int) bool { return gets[i].Call > op.Return })
		if k < len(gets) {
			g := gets[shortest[k]]
			part[j].Input = boundedAppend{KVInput: in, get: g.ClientId, bound: value(g)}
		}
	}
}

func value(get porcupine.Operation) string {
	out, _ := kvOutput(get.Output)
	return out.Value
}

// withoutBounds returns model without the bounds on Appends, if it is
// KVModel and they bound any of ops.
func withoutBounds(model porcupine.Model, ops []porcupine.Operation) (porcupine.Model, bool) {
	if model.Partition == nil {
		return model, false
	}
	for _, part := range model.Partition(ops) {
		for _, op := range part {
			if _, ok := op.Input.(boundedAppend); ok {
				model.Partition = partitionByKey
				return model, true
			}
		}
	}
	return model, false
}
