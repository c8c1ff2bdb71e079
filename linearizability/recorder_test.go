package linearizability

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

// Many clients record at once (run with -race); each outcome lands where it
// should.
func TestRecorderConcurrent(t *testing.T) {
	const clients, each = 8, 200
	r := NewRecorder()
	var wg sync.WaitGroup
	for c := range clients {
		wg.Go(func() {
			for i := range each {
				call := r.Call(c, KVInput{Op: Append, Key: fmt.Sprint(i % 3), Value: fmt.Sprintf("%d.%d ", c, i)})
				switch i % 4 {
				case 0, 1:
					call.Return(KVOutput{})
				case 2:
					call.Timeout()
				case 3:
					call.Fail()
				}
				if i%50 == 0 {
					r.Fault(Partition, fmt.Sprintf("client %d cut off", c))
				}
			}
		})
	}
	wg.Wait()
	h := r.History()
	require.Len(t, h.Ops, clients*each*3/4, "failed calls are dropped")
	require.Len(t, h.Annotations, clients*each/50)

	var latest int64 // of every event but the returns of timed-out calls
	for _, a := range h.Annotations {
		latest = max(latest, a.Start)
	}
	var unknown []int64
	for _, op := range h.Ops {
		latest = max(latest, op.Call)
		if op.Output.(KVOutput).Unknown {
			unknown = append(unknown, op.Return)
		} else {
			require.Less(t, op.Call, op.Return)
			latest = max(latest, op.Return)
		}
	}
	require.Len(t, unknown, clients*each/4)
	for _, ret := range unknown {
		require.Greater(t, ret, latest, "a timed-out call returns after every other event")
	}
	require.Equal(t, Ok, Check(KVModel(), h, 0).Verdict, "appends never read are linearizable")
}

func TestRecorderFaults(t *testing.T) {
	r := NewRecorder()
	r.Fault(Crash, "server 2 crashed")
	r.Call(0, KVInput{Op: Put, Key: "x", Value: "1"}).Return(KVOutput{})
	r.Fault(Heal, "network healed")
	h := r.History()
	require.Len(t, h.Annotations, 2)
	a := h.Annotations[0]
	require.Equal(t, FaultTag, a.Tag)
	require.Equal(t, "crash", a.Description)
	require.Equal(t, "server 2 crashed", a.Details)
	require.Less(t, a.Start, h.Ops[0].Call)
	require.Greater(t, h.Annotations[1].Start, h.Ops[0].Return)
}

// An unfinished call is as ambiguous as a timed-out one; a call ends once.
func TestRecorderUnfinishedAndTwice(t *testing.T) {
	r := NewRecorder()
	c := r.Call(0, RegisterInput{Op: Write, Value: "a"})
	r.Call(1, RegisterInput{Op: Read}).Return(RegisterOutput{Value: "a"})
	h := r.History()
	require.Equal(t, RegisterOutput{Unknown: true}, h.Ops[0].Output)
	require.Greater(t, h.Ops[0].Return, h.Ops[1].Return)
	require.Equal(t, Ok, Check(RegisterModel(), h, 0).Verdict)

	c.Timeout()
	require.Panics(t, func() { c.Return(RegisterOutput{}) })
	require.Panics(t, func() { Call{}.Fail() })
}

// Inside a synctest bubble the clock stands still between blocking
// operations; the recorder still keeps the order it saw, so a stale read
// after a completed write is caught.
func TestRecorderVirtualTime(t *testing.T) {
	var h History
	synctest.Test(t, func(t *testing.T) {
		r := NewRecorder()
		r.Call(0, KVInput{Op: Put, Key: "x", Value: "1"}).Return(KVOutput{})
		r.Call(1, KVInput{Op: Get, Key: "x"}).Return(KVOutput{Value: ""})
		time.Sleep(time.Second)
		r.Call(1, KVInput{Op: Get, Key: "x"}).Return(KVOutput{Value: "1"})
		h = r.History()
	})
	require.Equal(t, []int64{0, 1, 2, 3}, []int64{h.Ops[0].Call, h.Ops[0].Return, h.Ops[1].Call, h.Ops[1].Return})
	require.Equal(t, int64(time.Second), h.Ops[2].Call)
	t.Setenv(ArtifactsEnv, t.TempDir())
	require.Equal(t, Illegal, Check(KVModel(), h, 0).Verdict) // outside the bubble, as Check's doc says
}

// The read of "2" is explained by client 1's Put if it timed out (it may
// have happened), not if it failed (it certainly did not).
func TestRecorderTimeoutVersusFail(t *testing.T) {
	t.Setenv(ArtifactsEnv, t.TempDir())
	for _, timedOut := range []bool{true, false} {
		r := NewRecorder()
		r.Call(0, KVInput{Op: Put, Key: "x", Value: "1"}).Return(KVOutput{})
		put := r.Call(1, KVInput{Op: Put, Key: "x", Value: "2"})
		r.Call(2, KVInput{Op: Get, Key: "x"}).Return(KVOutput{Value: "2"})
		want := Ok
		if timedOut {
			put.Timeout()
		} else {
			put.Fail()
			want = Illegal
		}
		res := Check(KVModel(), r.History(), 0)
		require.Equal(t, want, res.Verdict, "timed out: %t", timedOut)
		if !timedOut {
			require.Contains(t, res.Why, `client 2's Get("x") returned "2" but the model expects "1"`)
		}
	}
}
