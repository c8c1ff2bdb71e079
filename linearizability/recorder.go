package linearizability

import (
	"fmt"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// A Recorder collects a history as client goroutines run. It is safe for
// concurrent use.
//
// Times are nanoseconds since NewRecorder on the monotonic clock (virtual
// time inside a testing/synctest bubble), made strictly increasing: an event
// recorded at the same reading of the clock as the one before it gets the
// next nanosecond. So the order in which the recorder saw the events is kept
// even when the clock does not move, as in a synctest bubble between two
// blocking operations: the real-time order the check relies on is not lost
// to a clock that stood still.
type Recorder struct {
	start time.Time

	mu     sync.Mutex
	last   int64 // the latest time given to an event
	ops    []record
	faults []porcupine.Annotation
}

type status uint8

const (
	pending  status = iota // called, not finished: ambiguous, as timedOut
	returned               // finished with an output
	timedOut               // ambiguous: may or may not have taken effect
	failed                 // certainly did not take effect
)

type record struct {
	op     porcupine.Operation
	status status
}

// NewRecorder returns an empty Recorder whose clock starts now.
func NewRecorder() *Recorder { return &Recorder{start: time.Now(), last: -1} }

// now returns the next time; r.mu is held.
func (r *Recorder) now() int64 {
	t := int64(time.Since(r.start))
	if t <= r.last {
		t = r.last + 1
	}
	r.last = t
	return t
}

// Call records that client called an operation with input (a KVInput, a
// RegisterInput, or the input type of your own model), and returns the
// handle that records how it ended. Call it just before the request leaves
// the client, so that the recorded interval contains the real one.
func (r *Recorder) Call(client int, input any) Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, record{op: porcupine.Operation{ClientId: client, Input: input, Call: r.now()}})
	return Call{r: r, i: len(r.ops) - 1}
}

// Call is the handle of one recorded call. Exactly one of Return, Timeout and
// Fail ends it; a call never ended is taken as timed out. Ending a call twice
// panics.
type Call struct {
	r *Recorder
	i int
}

// Return records the call's output (a KVOutput, a RegisterOutput, ...) and
// its return time. Call it as soon as the reply arrives.
func (c Call) Return(output any) {
	c.end(returned, func(op *porcupine.Operation) {
		op.Output = output
		op.Return = c.r.now()
	})
}

// Timeout records that the call's outcome is unknown: it may or may not have
// taken effect, at any time after its call. The history gives it no output
// and a return time later than every other event ("at infinity").
func (c Call) Timeout() { c.end(timedOut, nil) }

// Fail records that the call certainly did not take effect (say, the server
// refused it before doing anything): History leaves it out.
func (c Call) Fail() { c.end(failed, nil) }

func (c Call) end(s status, f func(*porcupine.Operation)) {
	if c.r == nil {
		panic("linearizability: Call not returned by Recorder.Call")
	}
	c.r.mu.Lock()
	defer c.r.mu.Unlock()
	rec := &c.r.ops[c.i]
	if rec.status != pending {
		panic(fmt.Sprintf("linearizability: client %d's call %v ended twice", rec.op.ClientId, rec.op.Input))
	}
	rec.status = s
	if f != nil {
		f(&rec.op)
	}
}

// FaultKind is the kind of a fault annotation.
type FaultKind string

const (
	Partition FaultKind = "partition"
	Crash     FaultKind = "crash"
	Restart   FaultKind = "restart"
	Heal      FaultKind = "heal"
)

// FaultTag is the row of the visualisation where faults are shown.
const FaultTag = "faults"

var faultColours = map[FaultKind]string{
	Partition: "#f4c7c3", Crash: "#f28b82", Restart: "#ccff90", Heal: "#a7ffeb",
}

// Fault records a fault injected now, as a point-in-time annotation on the
// "faults" row of the visualisation: kind is shown on the timeline,
// description in its tooltip.
func (r *Recorder) Fault(kind FaultKind, description string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.faults = append(r.faults, FaultAnnotation(kind, description, r.now()))
}

// FaultAnnotation is the annotation Fault records, at time t.
func FaultAnnotation(kind FaultKind, description string, t int64) porcupine.Annotation {
	return porcupine.Annotation{
		Tag: FaultTag, Start: t, End: t,
		Description: string(kind), Details: description,
		BackgroundColor: faultColours[kind],
	}
}

// History is a recorded history: the operations, in the order of their
// calls, and the annotations shown with them.
type History struct {
	Ops         []porcupine.Operation
	Annotations []porcupine.Annotation
}

// History returns what was recorded so far: failed calls left out, timed-out
// and unfinished ones with an unknown output and a return after every other
// event. It can be called while clients are still running.
func (r *Recorder) History() History {
	r.mu.Lock()
	defer r.mu.Unlock()
	var h History
	infinity := r.last + 1 // later than every event, since times increase
	for _, rec := range r.ops {
		switch rec.status {
		case returned:
			h.Ops = append(h.Ops, rec.op)
		case pending, timedOut:
			op := rec.op
			op.Output, op.Return = unknownOutput(op.Input), infinity
			h.Ops = append(h.Ops, op)
		}
	}
	h.Annotations = append(h.Annotations, r.faults...)
	return h
}

// unknownOutput is the output of a call whose outcome is unknown: the typed
// Unknown output for the models of this package, else nil.
func unknownOutput(input any) any {
	switch input.(type) {
	case KVInput:
		return KVOutput{Unknown: true}
	case RegisterInput:
		return RegisterOutput{Unknown: true}
	}
	return nil
}
