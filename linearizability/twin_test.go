package linearizability

import (
	"fmt"
	"math/rand"
	"os"
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// gen describes a generated KV history.
type gen struct {
	clients, n, keys int
	spread           int64 // how far an interval may stretch on each side of its linearization point
	timeouts         int   // one write in timeouts times out (0: none)
	puts             int   // percentage of writes that are Puts, the others Appends
}

// genKV returns a legal history: a sequential execution of g.n operations,
// each operation's interval stretched at random around its linearization
// point, so that concurrent operations overlap. A timed-out write happened,
// and returns at infinity. stale holds, for each Get, a value its key held
// earlier that differs from what the Get returned ("" if none), to plant
// stale reads with.
func genKV(rng *rand.Rand, g gen) (ops []porcupine.Operation, stale []string) {
	clients, n, keys, spread, timeouts := g.clients, g.n, g.keys, g.spread, g.timeouts
	const gap = 100 // between linearization points
	state := map[string][]string{}
	busy := make([]int64, clients) // each client's last return: a client calls one operation at a time
	for i := range n {
		p := int64(i+1) * gap
		c := rng.Intn(clients)
		for range clients {
			if busy[c] < p {
				break
			}
			c = (c + 1) % clients
		}
		if busy[c] >= p {
			continue // every client busy at p: no operation here
		}
		call := max(p-rng.Int63n(spread+1), busy[c]+1)
		ret := p + rng.Int63n(spread+1)
		busy[c] = ret
		key := fmt.Sprint("k", rng.Intn(keys))
		values := state[key]
		cur := ""
		if len(values) > 0 {
			cur = values[len(values)-1]
		}
		in := KVInput{Key: key}
		switch {
		case rng.Intn(10) < 4:
			in.Op = Get
			old := ""
			if len(values) > 1 {
				old = values[rng.Intn(len(values)-1)]
			}
			stale = append(stale, old)
		case rng.Intn(100) < g.puts:
			in.Op, in.Value = Put, fmt.Sprint(i)
			state[key] = append(values, in.Value)
		default:
			in.Op, in.Value = Append, fmt.Sprint(i, " ")
			state[key] = append(values, cur+in.Value)
		}
		op := porcupine.Operation{ClientId: c, Input: in, Call: call, Return: ret, Output: KVOutput{}}
		switch {
		case in.Op == Get:
			op.Output = KVOutput{Value: cur}
		case timeouts > 0 && rng.Intn(timeouts) == 0:
			op.Output = KVOutput{Unknown: true} // a timed-out write: it happened, and returns at infinity below
		}
		ops = append(ops, op)
	}
	infinity := int64(n+2) * gap
	for i := range ops {
		if ops[i].Output.(KVOutput).Unknown {
			ops[i].Return = infinity
		}
	}
	return ops, stale
}

// plant replaces the output of a random Get by a stale value; it reports
// false if there was none to plant.
func plant(rng *rand.Rand, ops []porcupine.Operation, stale []string) ([]porcupine.Operation, bool) {
	var gets []int
	for i, op := range ops {
		if op.Input.(KVInput).Op == Get {
			gets = append(gets, i)
		}
	}
	for _, j := range rng.Perm(len(gets)) {
		i := gets[j]
		if old := stale[j]; old != ops[i].Output.(KVOutput).Value {
			mutant := append([]porcupine.Operation(nil), ops...)
			mutant[i].Output = KVOutput{Value: old}
			return mutant, true
		}
	}
	return nil, false
}

// KVModel partitions by key and bounds Appends (kvprune.go);
// KVModelUnpartitioned is its plain twin. On small random histories, legal
// and with a planted stale read, with many Puts, few or none, both give the
// same verdict. Reference: Horn & Kroening, P-compositionality.
func TestKVModelTwin(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	rng := rand.New(rand.NewSource(1))
	illegal, bounded := 0, 0
	const runs = 300
	for run := range runs {
		g := gen{clients: 2 + rng.Intn(4), n: 5 + rng.Intn(30), keys: 1 + rng.Intn(3), spread: int64(rng.Intn(400)),
			timeouts: 10, puts: []int{50, 10, 0}[run%3]}
		ops, stale := genKV(rng, g)
		for _, part := range partitionKV(ops) {
			for _, op := range part {
				if _, ok := op.Input.(boundedAppend); ok {
					bounded++
				}
			}
		}
		got := Check(KVModel(), History{Ops: ops}, 0).Verdict
		require.Equal(t, Ok, got, "run %d: a generated history is legal", run)
		require.Equal(t, got, Check(KVModelUnpartitioned(), History{Ops: ops}, 0).Verdict, "run %d", run)

		mutant, ok := plant(rng, ops, stale)
		if !ok {
			continue
		}
		got = Check(KVModel(), History{Ops: mutant}, 0).Verdict
		require.Equal(t, got, Check(KVModelUnpartitioned(), History{Ops: mutant}, 0).Verdict, "run %d, mutant", run)
		if got == Illegal {
			illegal++
		}
	}
	require.Greater(t, illegal, runs/3, "planted stale reads are mostly caught")
	require.Greater(t, bounded, runs, "Appends are bounded")
	t.Logf("%d of %d mutants illegal; %d Appends bounded", illegal, runs, bounded)
}

// BenchmarkCheckKV checks a legal history of 15 clients and 3000 operations
// on 10 keys, with the KV model partitioned by key and without. No call
// times out: a write returning at infinity is concurrent with everything
// after it, which costs the unpartitioned search far more (about 10 s a
// check with one write in ten timed out, against 0.3 s; partitioned, 15 ms
// either way).
func BenchmarkCheckKV(b *testing.B) {
	ops, _ := genKV(rand.New(rand.NewSource(1)), gen{clients: 15, n: 3000, keys: 10, spread: 500, puts: 50})
	benchmarkKVModels(b, History{Ops: ops})
}

// benchmarkKVModels checks the legal history h with the KV model,
// partitioned by key and not, as sub-benchmarks.
func benchmarkKVModels(b *testing.B, h History) {
	for _, m := range []struct {
		name  string
		model porcupine.Model
	}{{"partitioned", KVModel()}, {"unpartitioned", KVModelUnpartitioned()}} {
		b.Run(m.name, func(b *testing.B) {
			for b.Loop() {
				if res := Check(m.model, h, 0); res.Verdict != Ok {
					b.Fatal(res.Err())
				}
			}
			b.ReportMetric(float64(len(h.Ops)), "ops")
		})
	}
}

// BenchmarkCheckFile checks the history in the JSON-lines file that
// RAFTSPEC_BENCH_HISTORY names (a KV history, e.g. one written by the KV
// suite with RAFTSPEC_HISTORIES set), partitioned by key and without.
func BenchmarkCheckFile(b *testing.B) {
	path := os.Getenv("RAFTSPEC_BENCH_HISTORY")
	if path == "" {
		b.Skip("RAFTSPEC_BENCH_HISTORY names no history file")
	}
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	h, err := ReadHistory(f, "kv")
	f.Close()
	if err != nil {
		b.Fatal(err)
	}
	benchmarkKVModels(b, h)
}
