package linearizability

import (
	"testing"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

// kv is one hand-made KV operation; out is what a Get returned.
func kv(client int, call, ret int64, op KVOp, key, value, out string) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input: KVInput{Op: op, Key: key, Value: value}, Output: KVOutput{Value: out}}
}

// reg is one hand-made register operation; out is what a Read returned,
// ok whether a CAS swapped.
func reg(client int, call, ret int64, op RegisterOp, value, expected, out string, ok bool) porcupine.Operation {
	return porcupine.Operation{ClientId: client, Call: call, Return: ret,
		Input: RegisterInput{Op: op, Value: value, Expected: expected}, Output: RegisterOutput{Value: out, Ok: ok}}
}

// ambiguous makes op's outcome unknown, returning at infinity.
func ambiguous(op porcupine.Operation, infinity int64) porcupine.Operation {
	op.Output, op.Return = unknownOutput(op.Input), infinity
	return op
}

type historyCase struct {
	name string
	ops  []porcupine.Operation
	want Verdict
	why  string // on Illegal: Why, for KVModel or RegisterModel
}

var kvCases = []historyCase{
	{name: "concurrent Put and Get see either value", want: Ok, ops: []porcupine.Operation{
		kv(0, 0, 10, Put, "x", "1", ""), kv(1, 5, 15, Get, "x", "", ""), kv(2, 6, 16, Get, "x", "", "1"),
	}},
	{name: "appends in real-time order", want: Ok, ops: []porcupine.Operation{
		kv(0, 0, 10, Append, "x", "a", ""), kv(1, 20, 30, Append, "x", "b", ""), kv(2, 25, 40, Get, "x", "", "ab"),
		kv(0, 41, 50, Get, "y", "", ""),
	}},
	{name: "stale read after a completed Put", want: Illegal, ops: []porcupine.Operation{
		kv(0, 0, 10, Put, "x", "1", ""), kv(1, 20, 30, Get, "x", "", ""),
	}, why: `after 1 operation on key "x" (state "1"), client 1's Get("x") returned "" but the model expects "1"`},
	{name: "lost append", want: Illegal, ops: []porcupine.Operation{
		kv(0, 0, 10, Append, "x", "a", ""), kv(1, 20, 30, Append, "x", "b", ""), kv(2, 40, 50, Get, "x", "", "b"),
		kv(3, 0, 50, Put, "y", "1", ""),
	}, why: `after 2 operations on key "x" (state "ab"), client 2's Get("x") returned "b" but the model expects "ab"`},
	{name: "duplicated append", want: Illegal, ops: []porcupine.Operation{
		kv(0, 0, 10, Append, "x", "a", ""), kv(1, 20, 30, Get, "x", "", "aa"),
	}, why: `after 1 operation on key "x" (state "a"), client 1's Get("x") returned "aa" but the model expects "a"`},
	{name: "two readers disagree on the order", want: Illegal, ops: []porcupine.Operation{
		kv(0, 0, 100, Put, "x", "1", ""), kv(1, 0, 100, Put, "x", "2", ""),
		kv(2, 10, 20, Get, "x", "", "1"), kv(2, 30, 40, Get, "x", "", "2"),
		kv(3, 10, 20, Get, "x", "", "2"), kv(3, 30, 40, Get, "x", "", "1"),
	}},
}

var registerCases = []historyCase{
	{name: "CAS chain", want: Ok, ops: []porcupine.Operation{
		reg(0, 0, 10, Write, "a", "", "", false), reg(1, 20, 30, CAS, "b", "a", "", true),
		reg(2, 25, 35, CAS, "c", "a", "", false), reg(0, 40, 50, Read, "", "", "b", false),
	}},
	{name: "stale read", want: Illegal, ops: []porcupine.Operation{
		reg(0, 0, 10, Write, "a", "", "", false), reg(1, 20, 30, Read, "", "", "", false),
	}, why: `after 1 operation (state "a"), client 1's Read() returned "" but the model expects "a"`},
	{name: "CAS success when the value differed", want: Illegal, ops: []porcupine.Operation{
		reg(0, 0, 10, Write, "a", "", "", false), reg(1, 20, 30, CAS, "c", "b", "", true),
	}, why: `after 1 operation (state "a"), client 1's CAS("b", "c") returned true but the model expects false`},
	{name: "CAS failure when the value matched", want: Illegal, ops: []porcupine.Operation{
		reg(0, 0, 10, Write, "b", "", "", false), reg(1, 20, 30, CAS, "c", "b", "", false),
	}, why: `client 1's CAS("b", "c") returned false but the model expects true`},
}

func TestKVModel(t *testing.T) {
	for _, c := range kvCases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(ArtifactsEnv, t.TempDir())
			res := Check(KVModel(), History{Ops: c.ops}, 0)
			require.Equal(t, c.want, res.Verdict)
			require.Contains(t, res.Why, c.why)
			require.Equal(t, c.want, Check(KVModelUnpartitioned(), History{Ops: c.ops}, 0).Verdict, "unpartitioned")
		})
	}
}

func TestRegisterModel(t *testing.T) {
	for _, c := range registerCases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv(ArtifactsEnv, t.TempDir())
			res := Check(RegisterModel(), History{Ops: c.ops}, 0)
			require.Equal(t, c.want, res.Verdict)
			require.Contains(t, res.Why, c.why)
		})
	}
}

// A read that sees a value only a timed-out write could have written is
// explained by that write; without the write it is not.
func TestAmbiguousWrite(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	put := kv(1, 15, 0, Put, "x", "2", "")
	ops := []porcupine.Operation{kv(0, 0, 10, Put, "x", "1", ""), ambiguous(put, 31), kv(2, 20, 30, Get, "x", "", "2")}
	require.Equal(t, Ok, Check(KVModel(), History{Ops: ops}, 0).Verdict)
	require.Equal(t, Illegal, Check(KVModel(), History{Ops: append(ops[:1:1], ops[2])}, 0).Verdict)

	// A timed-out write that did not happen is just as possible.
	ops[2] = kv(2, 20, 30, Get, "x", "", "1")
	require.Equal(t, Ok, Check(KVModel(), History{Ops: ops}, 0).Verdict)
}

// A timed-out CAS may have swapped (at its linearization point, the state
// decides) or not taken effect at all.
func TestAmbiguousCAS(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	cas := ambiguous(reg(1, 15, 0, CAS, "b", "a", "", false), 41)
	for _, seen := range []string{"a", "b"} {
		ops := []porcupine.Operation{reg(0, 0, 10, Write, "a", "", "", false), cas, reg(2, 20, 30, Read, "", "", seen, false)}
		require.Equal(t, Ok, Check(RegisterModel(), History{Ops: ops}, 0).Verdict, "read %q", seen)
	}
	// It cannot swap if the register did not hold Expected.
	ops := []porcupine.Operation{reg(0, 0, 10, Write, "z", "", "", false), cas, reg(2, 20, 30, Read, "", "", "b", false)}
	require.Equal(t, Illegal, Check(RegisterModel(), History{Ops: ops}, 0).Verdict)
}

func TestDescribe(t *testing.T) {
	m, r := KVModel(), RegisterModel()
	long := "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	for _, c := range []struct{ got, want string }{
		{m.DescribeOperation(KVInput{Op: Get, Key: "x"}, KVOutput{Value: "1"}), `Get("x") → "1"`},
		{m.DescribeOperation(KVInput{Op: Append, Key: "x", Value: "1 2 y"}, KVOutput{}), `Append("x", "1 2 y")`},
		{m.DescribeOperation(KVInput{Op: Put, Key: "x", Value: "1"}, KVOutput{Unknown: true}), `Put("x", "1") → ?`},
		{m.DescribeOperation(KVInput{Op: Get, Key: "x"}, nil), `Get("x") → ?`},
		{m.DescribeState(long), `"0123456789ab"…"` + long[len(long)-28:] + `" (62 bytes)`},
		{KVModelUnpartitioned().DescribeState(kvStore{"y": "2", "x": "1"}), `{"x": "1", "y": "2"}`},
		{r.DescribeState("<b>&"), `"&lt;b&gt;&amp;"`},
		{r.DescribeOperation(RegisterInput{Op: CAS, Expected: "a", Value: "b"}, RegisterOutput{Ok: true}), `CAS("a", "b") → true`},
		{r.DescribeOperation(RegisterInput{Op: Read}, RegisterOutput{Value: "a"}), `Read() → "a"`},
		{r.DescribeOperation(RegisterInput{Op: Write, Value: "a"}, nil), `Write("a") → ?`},
	} {
		require.Equal(t, c.want, c.got)
	}
}
