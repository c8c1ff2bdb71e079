package linearizability

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/anishathalye/porcupine"
)

// explain says in words why an Illegal history is not linearizable: in the
// first partition that has no linearization, it replays the longest
// linearizable prefix porcupine found through the model, and names the
// operation that cannot follow it.
//
// That operation is, among the operations not in the prefix, the one that
// returned first. No operation can follow the prefix (else the prefix would
// not be the longest), and by the real-time order the one that returned
// first has to be linearized before any operation called after its return:
// it is the one whose deadline ran out.
func explain(model porcupine.Model, ops []porcupine.Operation, info porcupine.LinearizationInfo) string {
	parts := [][]porcupine.Operation{ops}
	if model.Partition != nil {
		parts = model.Partition(ops)
	}
	partials := info.PartialLinearizations()
	if len(partials) != len(parts) {
		return fmt.Sprintf("porcupine found %d partitions, Partition gives %d now (is it deterministic?)", len(partials), len(parts))
	}
	// A partition whose search the budget cut short also lacks a complete
	// linearization; one whose next operation provably cannot step is
	// preferred, being the one porcupine found illegal.
	var why string
	found, proved := 0, false
	for p, part := range parts {
		longest := longestPartial(partials[p])
		if len(longest) == len(part) {
			continue
		}
		found++
		if !proved {
			why, proved = explainPartition(model, part, longest)
		}
	}
	switch {
	case found == 0:
		return "porcupine found no partition without a linearization"
	case found == 2:
		why += " (1 other partition has no linearization either)"
	case found > 2:
		why += fmt.Sprintf(" (%d other partitions have no linearization either)", found-1)
	}
	return why
}

// longestPartial is the longest of the partial linearizations, the first in
// the order of operation ids among those as long, so that Why is the same
// from run to run.
func longestPartial(partials [][]int) []int {
	var best []int
	for _, p := range partials {
		if len(p) > len(best) || len(p) == len(best) && slices.Compare(p, best) < 0 {
			best = p
		}
	}
	return best
}

// explainPartition explains why part has no linearization that extends
// prefix, and says whether that is proved: whether the operation it names
// cannot step.
func explainPartition(model porcupine.Model, part []porcupine.Operation, prefix []int) (string, bool) {
	step := model.Step
	if step == nil {
		step = func(s, in, out any) (bool, any) { return model.StepContext(context.Background(), s, in, out) }
	}
	state := model.Init()
	done := make([]bool, len(part))
	for _, id := range prefix {
		if id < 0 || id >= len(part) || done[id] {
			return fmt.Sprintf("partial linearization names operation %d of %d (is Partition deterministic?)", id, len(part)), false
		}
		ok, next := step(state, part[id].Input, part[id].Output)
		if !ok {
			return fmt.Sprintf("replaying the longest partial linearization failed at operation %d (is the model deterministic?)", id), false
		}
		state, done[id] = next, true
	}
	first := -1
	for id, op := range part {
		if !done[id] && (first < 0 || before(op, part[first])) {
			first = id
		}
	}
	op := part[first]
	if ok, _ := step(state, op.Input, op.Output); ok {
		// Only if the budget cut the search short (see explain).
		return fmt.Sprintf("after %s (state %s), the search stopped; the first operation left to return was client %d's %s",
			plural(len(prefix), "operation"), describeState(model, state), op.ClientId, describeOp(model, op)), false
	}
	return failure(model, len(prefix), state, op), true
}

// before orders operations by return, then call, then client.
func before(a, b porcupine.Operation) bool {
	if a.Return != b.Return {
		return a.Return < b.Return
	}
	if a.Call != b.Call {
		return a.Call < b.Call
	}
	return a.ClientId < b.ClientId
}

// failure is the sentence for op, which cannot step from state after n
// operations: what it returned (observed) and what the model expects.
func failure(model porcupine.Model, n int, state any, op porcupine.Operation) string {
	after := fmt.Sprintf("after %s (state %s)", plural(n, "operation"), describeState(model, state))
	switch in := op.Input.(type) {
	case boundedAppend:
		// The Get that bounds the Append is what went wrong (kvprune.go).
		s, _ := state.(string)
		v := s + in.Value
		return fmt.Sprintf("after %s on key %s (state %s), client %d's Get(%s) returned %s but the model expects a value starting with %s%s: it was called after client %d's %s returned",
			plural(n, "operation"), shorten(in.Key), shorten(s), in.get, shorten(in.Key), shorten(in.bound), shorten(v),
			firstDifference(in.bound, v), op.ClientId, describeKVInput(in.KVInput))
	case KVInput:
		out, _ := kvOutput(op.Output)
		var v string
		switch s := state.(type) {
		case string:
			after = fmt.Sprintf("after %s on key %s (state %s)", plural(n, "operation"), shorten(in.Key), shorten(s))
			v = s
		case kvStore:
			after = fmt.Sprintf("after %s (key %s holds %s)", plural(n, "operation"), shorten(in.Key), shorten(s[in.Key]))
			v = s[in.Key]
		}
		if in.Op == Get {
			return fmt.Sprintf("%s, client %d's %s returned %s but the model expects %s%s",
				after, op.ClientId, describeKVInput(in), shorten(out.Value), shorten(v), firstDifference(out.Value, v))
		}
	case RegisterInput:
		out, _ := registerOutput(op.Output)
		s, _ := state.(string)
		after = fmt.Sprintf("after %s (state %s)", plural(n, "operation"), shorten(s))
		switch in.Op {
		case Read:
			return fmt.Sprintf("%s, client %d's Read() returned %s but the model expects %s%s",
				after, op.ClientId, shorten(out.Value), shorten(s), firstDifference(out.Value, s))
		case CAS:
			return fmt.Sprintf("%s, client %d's CAS(%s, %s) returned %t but the model expects %t",
				after, op.ClientId, shorten(in.Expected), shorten(in.Value), out.Ok, !out.Ok)
		}
	}
	return fmt.Sprintf("%s, client %d's %s cannot follow", after, op.ClientId, describeOp(model, op))
}

// firstDifference says where two long values, what was observed and what
// the model expects, part, which shorten may hide: the byte, and each value
// around it.
func firstDifference(observed, expected string) string {
	if len(observed) <= 48 && len(expected) <= 48 {
		return ""
	}
	i := 0
	for i < len(observed) && i < len(expected) && observed[i] == expected[i] {
		i++
	}
	from := max(0, i-8)
	return fmt.Sprintf(" (they first differ at byte %d: %s where the model expects %s)",
		i, excerpt(observed, from), excerpt(expected, from))
}

// excerpt quotes s from byte from, at most 24 bytes of it.
func excerpt(s string, from int) string {
	to := min(len(s), from+24)
	q := fmt.Sprintf("%q", strings.ToValidUTF8(s[from:to], ""))
	if from > 0 {
		q = "…" + q
	}
	if to < len(s) {
		q += "…"
	}
	return q
}

func describeState(model porcupine.Model, state any) string {
	if model.DescribeState == nil {
		return fmt.Sprintf("%v", state)
	}
	return model.DescribeState(state)
}

func describeOp(model porcupine.Model, op porcupine.Operation) string {
	if model.DescribeOperation == nil {
		return fmt.Sprintf("%v → %v", op.Input, op.Output)
	}
	return model.DescribeOperation(op.Input, op.Output)
}

// plural is "1 operation", "2 operations".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
