package linearizability

import (
	"bufio"
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/anishathalye/porcupine"
)

// WriteHistory writes h in the JSON-lines format ReadHistory reads, in the
// order of time: operations of the models of this package (calls with an
// unknown output as status "info", without a return), and the annotations
// of Fault.
func WriteHistory(w io.Writer, h History) error {
	type timed struct {
		t int64
		l jsonLine
	}
	var lines []timed
	for i, op := range h.Ops {
		l, err := opLine(op)
		if err != nil {
			return fmt.Errorf("operation %d: %v", i, err)
		}
		lines = append(lines, timed{op.Call, l})
	}
	for _, a := range h.Annotations {
		if a.Tag == FaultTag {
			lines = append(lines, timed{a.Start, jsonLine{Fault: &a.Description, Time: &a.Start, Description: &a.Details}})
		}
	}
	slices.SortStableFunc(lines, func(a, b timed) int { return cmp.Compare(a.t, b.t) })
	bw := bufio.NewWriter(w)
	e := json.NewEncoder(bw)
	e.SetEscapeHTML(false)
	for _, l := range lines {
		if err := e.Encode(l.l); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// opLine is op as a line of the format.
func opLine(op porcupine.Operation) (jsonLine, error) {
	l := jsonLine{Client: &op.ClientId, Call: &op.Call}
	var name, output string
	var known, hasOutput bool
	switch in := op.Input.(type) {
	case KVInput:
		out, ok := op.Output.(KVOutput)
		if op.Output != nil && !ok {
			return l, fmt.Errorf("output of type %T, want KVOutput", op.Output)
		}
		name, known = strings.ToLower(in.Op.String()), op.Output != nil && !out.Unknown
		l.Key = &in.Key
		if in.Op != Get {
			l.Value = &in.Value
		}
		output, hasOutput = out.Value, in.Op == Get
	case RegisterInput:
		out, ok := op.Output.(RegisterOutput)
		if op.Output != nil && !ok {
			return l, fmt.Errorf("output of type %T, want RegisterOutput", op.Output)
		}
		name, known = strings.ToLower(in.Op.String()), op.Output != nil && !out.Unknown
		if in.Op != Read {
			l.Value = &in.Value
		}
		if in.Op == CAS {
			l.Expected = &in.Expected
			output = strconv.FormatBool(out.Ok)
		} else {
			output = out.Value
		}
		hasOutput = in.Op != Write
	default:
		return l, fmt.Errorf("input of type %T, want KVInput or RegisterInput", op.Input)
	}
	status := "info"
	if known {
		status = "ok"
	}
	l.Op, l.Status = &name, &status
	if known {
		l.Return = &op.Return
		if hasOutput {
			l.Output = &output
		}
	}
	return l, nil
}
