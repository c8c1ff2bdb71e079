package linearizability

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/anishathalye/porcupine"
	"github.com/stretchr/testify/require"
)

func readFile(t *testing.T, path, model string) History {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h, err := ReadHistory(f, model)
	require.NoError(t, err)
	return h
}

// The example files of docs/linearizability.md say what they claim.
func TestReadHistoryExamples(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	h := readFile(t, "testdata/kv-ok.jsonl", "kv")
	require.Len(t, h.Ops, 7, "the failed put is dropped")
	require.Len(t, h.Annotations, 2)
	require.Equal(t, porcupine.Operation{ClientId: 0, Call: 220, Return: 501,
		Input: KVInput{Op: Append, Key: "y", Value: "1"}, Output: KVOutput{Unknown: true}}, h.Ops[3], "info returns at infinity")
	require.Equal(t, Ok, Check(KVModel(), h, 0).Verdict)

	res := Check(KVModel(), readFile(t, "testdata/kv-illegal.jsonl", "kv"), 0)
	require.Equal(t, Illegal, res.Verdict)
	require.Equal(t, `after 3 operations on key "x" (state "a2"), client 3's Get("x") returned "a1" but the model expects "a2"`, res.Why)

	require.Equal(t, Ok, Check(RegisterModel(), readFile(t, "testdata/register-ok.jsonl", "register"), 0).Verdict)
}

func TestReadHistoryErrors(t *testing.T) {
	ok := `{"client":0,"op":"put","key":"x","value":"1","call":1,"return":2,"status":"ok"}` + "\n"
	for _, c := range []struct{ model, line, want string }{
		{"kv", `{"client":0,`, "line 2: unexpected EOF"},
		{"kv", `{"client":0,"op":"put","key":"x","value":"1","call":1,"retrun":2,"status":"ok"}`, `line 2: json: unknown field "retrun"`},
		{"kv", `{"op":"put","key":"x","value":"1","return":2}`, `line 2: missing "client", "call" and "status"`},
		{"kv", `{"client":0,"op":"read","call":1,"return":2,"status":"ok"}`, `line 2: op "read" is not a kv operation (get, put, append)`},
		{"register", `{"client":0,"op":"get","key":"x","call":1,"return":2,"status":"ok"}`, `line 2: op "get" is not a register operation (read, write, cas)`},
		{"kv", `{"client":0,"op":"put","key":"x","value":"1","call":5,"return":2,"status":"ok"}`, "line 2: return 2 before call 5"},
		{"kv", `{"client":0,"op":"put","key":"x","value":"1","call":5,"status":"ok"}`, `line 2: status "ok" without "return"`},
		{"kv", `{"client":0,"op":"put","key":"x","value":"1","call":5,"status":"done"}`, `line 2: status "done": want ok, fail or info`},
		{"kv", `{"client":-1,"op":"put","key":"x","value":"1","call":5,"status":"info"}`, "line 2: client -1: want 0 or more"},
		{"kv", `{"client":0,"op":"get","key":"x","call":1,"return":2,"status":"ok"}`, `line 2: get with status "ok" without "output"`},
		{"kv", `{"client":0,"op":"append","key":"x","call":1,"return":2,"status":"ok"}`, `line 2: append without "value"`},
		{"kv", `{"client":0,"op":"put","value":"1","call":1,"return":2,"status":"ok"}`, `line 2: put without "key"`},
		{"kv", `{"client":"0","op":"put"}`, "line 2: json: cannot unmarshal string"},
		{"kv", `{"fault":"crash"}`, `line 2: fault without "time"`},
		{"kv", `{"fault":"crash","time":3,"client":1}`, "line 2: a line is either a fault or an operation"},
		{"kv", `{} {}`, "line 2: more than one JSON value"},
		{"register", `{"client":0,"op":"cas","value":"1","call":1,"return":2,"status":"ok"}`, `line 2: cas without "expected"`},
		{"register", `{"client":0,"op":"cas","value":"1","expected":"","output":"yes","call":1,"return":2,"status":"ok"}`, `line 2: cas output "yes": want "true" or "false"`},
		{"register", `{"client":0,"op":"read","call":1,"return":2,"status":"ok"}`, `line 2: read with status "ok" without "output"`},
		{"nope", ``, `unknown model "nope" (want kv or register)`},
	} {
		in := ok + c.line + "\n"
		if c.model == "register" {
			in = `{"client":0,"op":"write","value":"1","call":1,"return":2,"status":"ok"}` + "\n" + c.line + "\n"
		}
		_, err := ReadHistory(strings.NewReader(in), c.model)
		require.ErrorContains(t, err, c.want, c.line)
	}
	_, err := ReadHistory(iotest.ErrReader(errors.New("disk on fire")), "kv")
	require.EqualError(t, err, "line 1: disk on fire")
}

// What the recorder records, written and read back, is the same history.
func TestWriteHistoryRoundTrip(t *testing.T) {
	for _, model := range []string{"kv", "register"} {
		r := NewRecorder()
		if model == "kv" {
			r.Call(0, KVInput{Op: Put, Key: "x", Value: `"1"`}).Return(KVOutput{})
			r.Fault(Crash, "server 1 <crashed>")
			r.Call(1, KVInput{Op: Append, Key: "x", Value: "2"}).Timeout()
			r.Call(2, KVInput{Op: Get, Key: "x"}).Return(KVOutput{Value: `"1"2`})
		} else {
			r.Call(0, RegisterInput{Op: Write, Value: "a"}).Return(RegisterOutput{})
			r.Call(1, RegisterInput{Op: CAS, Expected: "a", Value: "b"}).Return(RegisterOutput{Ok: true})
			r.Call(2, RegisterInput{Op: CAS, Expected: "a", Value: "c"}).Timeout()
			r.Call(0, RegisterInput{Op: Read}).Return(RegisterOutput{Value: "b"})
		}
		h := r.History()
		var b bytes.Buffer
		require.NoError(t, WriteHistory(&b, h))
		back, err := ReadHistory(&b, model)
		require.NoError(t, err, b.String())
		require.Equal(t, h, back, b.String())
	}
	err := WriteHistory(&bytes.Buffer{}, History{Ops: []porcupine.Operation{{Input: 1}}})
	require.EqualError(t, err, "operation 0: input of type int, want KVInput or RegisterInput")
}
