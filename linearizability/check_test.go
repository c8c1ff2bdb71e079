package linearizability

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// A stale read after a partition: Illegal, with the visualisation (and the
// fault on it) in $RAFTSPEC_ARTIFACTS and the explanation in the error.
func TestCheckIllegal(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(ArtifactsEnv, dir)
	r := NewRecorder()
	r.Call(0, KVInput{Op: Put, Key: "x", Value: "a1"}).Return(KVOutput{})
	r.Fault(Partition, "leader 0 cut off from 1 and 2")
	r.Call(1, KVInput{Op: Append, Key: "x", Value: "a2"}).Return(KVOutput{})
	r.Call(3, KVInput{Op: Get, Key: "x"}).Return(KVOutput{Value: "a1"}) // served by the deposed leader
	res := Check(KVModel(), r.History(), time.Minute)

	require.Equal(t, Illegal, res.Verdict)
	require.Equal(t, 3, res.Ops)
	require.Equal(t, `after 2 operations on key "x" (state "a1a2"), client 3's Get("x") returned "a1" but the model expects "a1a2"`, res.Why)
	require.Equal(t, dir, filepath.Dir(res.HTML))
	require.True(t, strings.HasPrefix(filepath.Base(res.HTML), "raftspec-lin-") && strings.HasSuffix(res.HTML, ".html"), res.HTML)
	html, err := os.ReadFile(res.HTML)
	require.NoError(t, err)
	require.Contains(t, string(html), "leader 0 cut off from 1 and 2", "the fault is annotated")
	require.Contains(t, string(html), `Get(\"x\") → \"a1\"`)
	jsonl := strings.TrimSuffix(res.HTML, ".html") + ".jsonl"
	require.Equal(t, "raftspec lin -model kv "+jsonl, res.Replay)
	require.EqualError(t, res.Err(), "history is not linearizable: "+res.Why+"; visualisation: "+res.HTML+"; replay: "+res.Replay)

	// The replay file holds the same history.
	f, err := os.Open(jsonl)
	require.NoError(t, err)
	defer f.Close()
	h, err := ReadHistory(f, "kv")
	require.NoError(t, err)
	require.Equal(t, r.History(), h)
}

func TestCheckOk(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	for _, h := range []History{{}, {Ops: kvCases[1].ops}} {
		res := Check(KVModel(), h, time.Minute)
		require.Equal(t, Ok, res.Verdict)
		require.NoError(t, res.Err())
		require.Empty(t, res.HTML)
		require.Empty(t, res.Why)
	}
}

// With no artifacts directory to write to, the error says why there is no
// visualisation.
func TestCheckNoVisualization(t *testing.T) {
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	t.Setenv(ArtifactsEnv, file)
	res := Check(KVModel(), History{Ops: kvCases[2].ops}, 0)
	require.Equal(t, Illegal, res.Verdict)
	require.Empty(t, res.HTML)
	require.ErrorContains(t, res.Err(), res.Why+"; no visualisation: ")
}

// A model whose steps wait until the checker gives up makes the budget run
// out, deterministically; Unknown is an error.
func TestCheckUnknown(t *testing.T) {
	m := KVModel()
	m.Step = nil
	m.StepContext = func(ctx context.Context, state, input, output any) (bool, any) {
		<-ctx.Done()
		return false, state
	}
	res := Check(m, History{Ops: kvCases[1].ops}, time.Millisecond)
	require.Equal(t, Unknown, res.Verdict)
	require.Empty(t, res.HTML)
	require.EqualError(t, res.Err(), "linearizability check gave up: the 1ms budget ran out checking 4 operations, "+
		"and Unknown is not treated as Ok (raise the budget or record a shorter history)")
}

// Why names the key's state in the unpartitioned model, and falls back to
// the model's descriptions for a model of another package.
func TestCheckWhyOtherModels(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	res := Check(KVModelUnpartitioned(), History{Ops: kvCases[3].ops}, 0)
	require.Equal(t, `after 3 operations (key "x" holds "ab"), client 2's Get("x") returned "b" but the model expects "ab"`, res.Why)

	counter := porcupine.Model{
		Init: func() any { return 0 },
		Step: func(state, input, output any) (bool, any) {
			n := state.(int) + 1
			return output.(int) == n, n
		},
		DescribeOperation: func(input, output any) string { return "Inc() → " + string(rune('0'+output.(int))) },
	}
	res = Check(counter, History{Ops: []porcupine.Operation{
		{ClientId: 0, Call: 0, Return: 10, Output: 1}, {ClientId: 1, Call: 20, Return: 30, Output: 3},
	}}, 0)
	require.Equal(t, "after 1 operation (state 1), client 1's Inc() → 3 cannot follow", res.Why)
	require.NotEmpty(t, res.HTML)
	require.Empty(t, res.Replay, "no JSON lines for another package's model")
	require.EqualError(t, res.Err(), "history is not linearizable: "+res.Why+"; visualisation: "+res.HTML)
}

// Long values are shortened in Why; where they part is said.
func TestCheckWhyLongValues(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	long := strings.Repeat("0123456789", 8)
	ops := []porcupine.Operation{
		kv(0, 0, 10, Put, "x", long, ""), kv(0, 20, 30, Append, "x", "!", ""), kv(1, 40, 50, Get, "x", "", long+"?"),
	}
	res := Check(KVModel(), History{Ops: ops}, 0)
	require.Contains(t, res.Why, `client 1's Get("x") returned "012345678901"…"345678901234567890123456789?" (81 bytes) but the model expects "012345678901"…"345678901234567890123456789!" (81 bytes)`)
	require.Contains(t, res.Why, `(they first differ at byte 80: …"23456789?" where the model expects …"23456789!")`)
}

// Two keys without a linearization: Why explains the first and counts the
// other.
func TestCheckWhyTwoPartitions(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	ops := []porcupine.Operation{
		kv(0, 0, 10, Put, "x", "1", ""), kv(1, 20, 30, Get, "x", "", "2"),
		kv(0, 40, 50, Put, "y", "1", ""), kv(1, 60, 70, Get, "y", "", ""),
	}
	res := Check(KVModel(), History{Ops: ops}, 0)
	require.Equal(t, `after 1 operation on key "x" (state "1"), client 1's Get("x") returned "2" but the model expects "1"`+
		` (1 other partition has no linearization either)`, res.Why)
}

// A prefix that is not the longest (as when the budget cuts a partition's
// search short) is not taken for a proof.
func TestExplainPartitionUnproved(t *testing.T) {
	part := []porcupine.Operation{kv(0, 0, 10, Put, "x", "1", ""), kv(1, 20, 30, Get, "x", "", "1")}
	why, proved := explainPartition(KVModel(), part, nil)
	require.False(t, proved)
	require.Equal(t, `after 0 operations (state ""), the search stopped; the first operation left to return was client 0's Put("x", "1")`, why)
	_, proved = explainPartition(KVModel(), part[1:], nil)
	require.True(t, proved)
}
