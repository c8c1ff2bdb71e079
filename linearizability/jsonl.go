package linearizability

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/anishathalye/porcupine"
)

// jsonLine is one line of the JSON-lines history format: an operation or a
// fault. Pointers tell a missing field from a zero one.
type jsonLine struct {
	Client   *int    `json:"client,omitempty"`
	Op       *string `json:"op,omitempty"`
	Key      *string `json:"key,omitempty"`
	Value    *string `json:"value,omitempty"`
	Expected *string `json:"expected,omitempty"`
	Output   *string `json:"output,omitempty"`
	Call     *int64  `json:"call,omitempty"`
	Return   *int64  `json:"return,omitempty"`
	Status   *string `json:"status,omitempty"`

	Fault       *string `json:"fault,omitempty"`
	Time        *int64  `json:"time,omitempty"`
	Description *string `json:"description,omitempty"`
}

var (
	kvOps       = map[string]KVOp{"get": Get, "put": Put, "append": Append}
	registerOps = map[string]RegisterOp{"read": Read, "write": Write, "cas": CAS}
)

// ReadHistory reads a history in the JSON-lines format of
// docs/linearizability.md, whose operations are those of model "kv" (get,
// put, append) or "register" (read, write, cas). Status "fail" drops an
// operation, "info" makes its outcome unknown: it returns at infinity. An
// error names the line.
func ReadHistory(r io.Reader, model string) (History, error) {
	if model != "kv" && model != "register" {
		return History{}, fmt.Errorf("unknown model %q (want kv or register)", model)
	}
	var h History
	var ambiguous []int // indexes in h.Ops
	latest := int64(math.MinInt64)
	sc := bufio.NewScanner(r)
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var l jsonLine
		d := json.NewDecoder(bytes.NewReader(sc.Bytes()))
		d.DisallowUnknownFields()
		if err := d.Decode(&l); err != nil {
			return History{}, fmt.Errorf("line %d: %v", n, err)
		}
		if d.More() {
			return History{}, fmt.Errorf("line %d: more than one JSON value", n)
		}
		if l.Fault != nil {
			a, err := l.fault()
			if err != nil {
				return History{}, fmt.Errorf("line %d: %v", n, err)
			}
			latest = max(latest, a.Start)
			h.Annotations = append(h.Annotations, a)
			continue
		}
		op, status, err := l.operation(model)
		if err != nil {
			return History{}, fmt.Errorf("line %d: %v", n, err)
		}
		switch status {
		case "fail":
			continue
		case "info":
			ambiguous = append(ambiguous, len(h.Ops))
			latest = max(latest, op.Call)
		default:
			latest = max(latest, op.Return)
		}
		h.Ops = append(h.Ops, op)
	}
	if err := sc.Err(); err != nil {
		return History{}, fmt.Errorf("line %d: %v", n+1, err)
	}
	if latest == math.MaxInt64 && len(ambiguous) > 0 {
		return History{}, errors.New("no time left for infinity: the latest time is the largest int64")
	}
	for _, i := range ambiguous {
		h.Ops[i].Return = latest + 1
	}
	return h, nil
}

func (l *jsonLine) fault() (porcupine.Annotation, error) {
	switch {
	case *l.Fault == "":
		return porcupine.Annotation{}, errors.New(`empty "fault"`)
	case l.Time == nil:
		return porcupine.Annotation{}, errors.New(`fault without "time"`)
	case l.Client != nil || l.Op != nil || l.Call != nil || l.Return != nil || l.Status != nil:
		return porcupine.Annotation{}, errors.New("a line is either a fault or an operation, not both")
	}
	d := ""
	if l.Description != nil {
		d = *l.Description
	}
	return FaultAnnotation(FaultKind(*l.Fault), d, *l.Time), nil
}

// operation checks the line and returns the operation and its status.
func (l *jsonLine) operation(model string) (porcupine.Operation, string, error) {
	var missing []string
	for _, f := range []struct {
		name string
		nil  bool
	}{{"client", l.Client == nil}, {"op", l.Op == nil}, {"call", l.Call == nil}, {"status", l.Status == nil}} {
		if f.nil {
			missing = append(missing, fmt.Sprintf("%q", f.name))
		}
	}
	if len(missing) > 0 {
		return porcupine.Operation{}, "", fmt.Errorf("missing %s", joinAnd(missing))
	}
	op := porcupine.Operation{ClientId: *l.Client, Call: *l.Call}
	status := *l.Status
	switch {
	case op.ClientId < 0:
		return op, "", fmt.Errorf("client %d: want 0 or more", op.ClientId)
	case status != "ok" && status != "fail" && status != "info":
		return op, "", fmt.Errorf("status %q: want ok, fail or info", status)
	case status == "ok" && l.Return == nil:
		return op, "", errors.New(`status "ok" without "return"`)
	case status == "ok" && *l.Return < op.Call:
		return op, "", fmt.Errorf("return %d before call %d", *l.Return, op.Call)
	}
	if status == "ok" {
		op.Return = *l.Return
	}
	known := status == "ok"
	var err error
	if model == "kv" {
		op.Input, op.Output, err = l.kv(known)
	} else {
		op.Input, op.Output, err = l.register(known)
	}
	return op, status, err
}

func (l *jsonLine) kv(known bool) (KVInput, KVOutput, error) {
	o, ok := kvOps[*l.Op]
	if !ok {
		return KVInput{}, KVOutput{}, fmt.Errorf("op %q is not a kv operation (get, put, append)", *l.Op)
	}
	in, out := KVInput{Op: o}, KVOutput{Unknown: !known}
	switch {
	case l.Key == nil:
		return in, out, fmt.Errorf(`%s without "key"`, *l.Op)
	case o != Get && l.Value == nil:
		return in, out, fmt.Errorf(`%s without "value"`, *l.Op)
	case o == Get && known && l.Output == nil:
		return in, out, errors.New(`get with status "ok" without "output"`)
	}
	in.Key = *l.Key
	if o != Get {
		in.Value = *l.Value
	} else if known {
		out.Value = *l.Output
	}
	return in, out, nil
}

func (l *jsonLine) register(known bool) (RegisterInput, RegisterOutput, error) {
	o, ok := registerOps[*l.Op]
	if !ok {
		return RegisterInput{}, RegisterOutput{}, fmt.Errorf("op %q is not a register operation (read, write, cas)", *l.Op)
	}
	in, out := RegisterInput{Op: o}, RegisterOutput{Unknown: !known}
	switch {
	case o != Read && l.Value == nil:
		return in, out, fmt.Errorf(`%s without "value"`, *l.Op)
	case o == CAS && l.Expected == nil:
		return in, out, errors.New(`cas without "expected"`)
	case o != Write && known && l.Output == nil:
		return in, out, fmt.Errorf(`%s with status "ok" without "output"`, *l.Op)
	case o == CAS && known && *l.Output != "true" && *l.Output != "false":
		return in, out, fmt.Errorf(`cas output %q: want "true" or "false"`, *l.Output)
	}
	if o != Read {
		in.Value = *l.Value
	}
	if o == CAS {
		in.Expected = *l.Expected
	}
	switch {
	case !known:
	case o == Read:
		out.Value = *l.Output
	case o == CAS:
		out.Ok = *l.Output == "true"
	}
	return in, out, nil
}

// joinAnd is `"a"`, `"a" and "b"`, `"a", "b" and "c"`.
func joinAnd(s []string) string {
	if len(s) == 1 {
		return s[0]
	}
	return strings.Join(s[:len(s)-1], ", ") + " and " + s[len(s)-1]
}
