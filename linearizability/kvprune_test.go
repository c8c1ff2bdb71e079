package linearizability

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// oneKeyAppends is the lab's UnreliableOneKey as a history: a Put of "",
// then clients append to one key, each call as long as a client that calls
// one at a time allows (halfway from its previous linearization point to
// halfway to its next), then one Get of the whole value. It returns the
// history and each client's appends in order.
func oneKeyAppends(rng *rand.Rand, clients, each int) ([]porcupine.Operation, [][]string) {
	var order []int // the appending client at each linearization point 10, 20, ...
	for c := range clients {
		for range each {
			order = append(order, c)
		}
	}
	rng.Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	points := make([][]int64, clients)
	for i, c := range order {
		points[c] = append(points[c], int64(10*(i+1)))
	}
	end := int64(10 * (len(order) + 1))
	ops := []porcupine.Operation{kv(0, 0, 1, Put, "k", "", "")}
	appends := make([][]string, clients)
	for c, ps := range points {
		for j, p := range ps {
			call, ret := int64(2), end
			if j > 0 {
				call = (ps[j-1]+p)/2 + 1
			}
			if j+1 < len(ps) {
				ret = (p + ps[j+1]) / 2
			}
			v := fmt.Sprintf("x %d %d y", c, j)
			appends[c] = append(appends[c], v)
			ops = append(ops, kv(c, call, ret, Append, "k", v, ""))
		}
	}
	var value strings.Builder
	seen := make([]int, clients)
	for _, c := range order {
		value.WriteString(appends[c][seen[c]])
		seen[c]++
	}
	return append(ops, kv(clients, end+1, end+2, Get, "k", "", value.String())), appends
}

// Five clients append ten times each to one key, every append concurrent
// with those of the other clients, and one Get reads the result: 50!/(10!)^5
// orders to try without the bounds on Appends, one with them.
func TestKVModelOneKeyAppends(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	noSecondSearch(t) // without the bounds, it would not finish anyway
	ops, appends := oneKeyAppends(rand.New(rand.NewSource(1)), 5, 10)
	res := Check(KVModel(), History{Ops: ops}, 0)
	require.Equal(t, Ok, res.Verdict)

	get := &ops[len(ops)-1]
	whole := get.Output.(KVOutput).Value
	for _, c := range []struct{ name, value, why string }{
		{"lost append", strings.Replace(whole, appends[3][4], "", 1), `client 3's Append("k", "x 3 4 y") returned`},
		{"duplicated append", strings.Replace(whole, appends[2][7], appends[2][7]+appends[2][7], 1), "(they first differ at byte "},
		{"a client's appends swapped", swap(whole, appends[1][5], appends[1][6]), "(they first differ at byte "},
	} {
		get.Output = KVOutput{Value: c.value}
		res := Check(KVModel(), History{Ops: ops}, 0)
		require.Equal(t, Illegal, res.Verdict, c.name)
		require.Contains(t, res.Why, "client 5's Get(\"k\") returned", c.name)
		require.Contains(t, res.Why, c.why, c.name)
		t.Logf("%s: %s", c.name, res.Why)
	}
}

// swap exchanges the first a and the first b in s.
func swap(s, a, b string) string {
	s = strings.Replace(s, a, "\x00", 1)
	s = strings.Replace(s, b, a, 1)
	return strings.Replace(s, "\x00", b, 1)
}

// noSecondSearch makes Check explain from the search with the bounds on
// Appends, as when the search without them does not finish in time.
func noSecondSearch(t *testing.T) {
	old := explainBudget
	explainBudget = 0
	t.Cleanup(func() { explainBudget = old })
}

// The bounds refuse the first append the Get lacks: Why names the Get.
// Without the second search, the partial linearization is empty here.
func TestKVModelBoundsWhy(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	noSecondSearch(t)
	res := Check(KVModel(), History{Ops: kvCases[3].ops}, 0)
	require.Equal(t, `after 0 operations on key "x" (state ""), client 2's Get("x") returned "b" but the model expects a value starting with "a": `+
		`it was called after client 0's Append("x", "a") returned`, res.Why)
}

// Only the Appends after every Put on their key are bounded, by the
// shortest value of the Gets called after they returned.
func TestBoundAppends(t *testing.T) {
	part := []porcupine.Operation{
		kv(0, 0, 10, Append, "x", "a", ""), // before the Put returned: unbounded
		kv(1, 5, 20, Put, "x", "p", ""),
		kv(0, 21, 30, Append, "x", "b", ""),
		kv(2, 30, 40, Get, "x", "", "pb"),  // concurrent with the Append: no bound
		kv(3, 31, 45, Get, "x", "", "pbc"), // called after it returned
		kv(2, 41, 50, Get, "x", "", "pbcd"),
		kv(1, 32, 60, Append, "x", "c", ""), // no Get called after it returned
	}
	boundAppends(part)
	require.Equal(t, KVInput{Op: Append, Key: "x", Value: "a"}, part[0].Input)
	require.Equal(t, boundedAppend{KVInput: KVInput{Op: Append, Key: "x", Value: "b"}, get: 3, bound: "pbc"}, part[2].Input)
	require.Equal(t, KVInput{Op: Append, Key: "x", Value: "c"}, part[6].Input)
}

// BenchmarkCheckKVOneKeyAppends checks the lab's UnreliableOneKey history
// (5 clients × 10 appends to one key, then a Get) with KVModel. Without the
// bounds on Appends, 5 × 3 appends already take more than 10 s.
func BenchmarkCheckKVOneKeyAppends(b *testing.B) {
	ops, _ := oneKeyAppends(rand.New(rand.NewSource(1)), 5, 10)
	for b.Loop() {
		if res := Check(KVModel(), History{Ops: ops}, 0); res.Verdict != Ok {
			b.Fatal(res.Err())
		}
	}
}
