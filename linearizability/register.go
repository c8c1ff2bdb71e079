package linearizability

import (
	"fmt"
	"hash/maphash"

	"github.com/anishathalye/porcupine"
)

// RegisterOp is the operation of a register call.
type RegisterOp uint8

const (
	Read  RegisterOp = iota // returns the value
	Write                   // sets the value
	CAS                     // sets the value if it equals Expected
)

func (o RegisterOp) String() string {
	switch o {
	case Read:
		return "Read"
	case Write:
		return "Write"
	case CAS:
		return "CAS"
	}
	return fmt.Sprintf("RegisterOp(%d)", uint8(o))
}

// RegisterInput is the input of a register call: Write sets Value; CAS sets
// Value if the register holds Expected.
type RegisterInput struct {
	Op              RegisterOp
	Value, Expected string
}

// RegisterOutput is the output of a register call: Value is what a Read
// returned, Ok whether a CAS swapped. Unknown says the outcome is unknown (the
// call timed out): the model accepts any output for it, and a Write or CAS
// takes effect where it is linearized. Such a call should return at infinity
// (as Call.Timeout records it), so that it may also never take effect. A nil
// output means the same as Unknown.
type RegisterOutput struct {
	Value   string
	Ok      bool
	Unknown bool
}

// RegisterModel is the sequential specification of one string register,
// initially "", with Read, Write and compare-and-swap.
//
// A CAS whose outcome is unknown needs no nondeterminism: if it took effect,
// it did so at its linearization point, where the state decides whether it
// swapped; if it did not, the checker can place it after every other
// operation (its return is at infinity), where it changes nothing observed.
// The search over linearization points covers both outcomes.
func RegisterModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return "" },
		Step: func(state, input, output any) (bool, any) {
			v, in := state.(string), registerInput(input)
			out, known := registerOutput(output)
			switch in.Op {
			case Read:
				return !known || out.Value == v, v
			case Write:
				return true, in.Value
			case CAS:
				swap := v == in.Expected
				if known && out.Ok != swap {
					return false, v
				}
				if swap {
					return true, in.Value
				}
				return true, v
			}
			panic(fmt.Sprintf("linearizability: register operation %v", in.Op))
		},
		Equal:             func(a, b any) bool { return a.(string) == b.(string) },
		Hash:              func(s any) uint64 { return maphash.String(hashSeed, s.(string)) },
		DescribeOperation: describeRegister,
		DescribeState:     func(s any) string { return escapeHTML(shorten(s.(string))) }, // shown as HTML
	}
}

func registerInput(x any) RegisterInput {
	in, ok := x.(RegisterInput)
	if !ok {
		panic(fmt.Sprintf("linearizability: register model got an input of type %T, want RegisterInput", x))
	}
	return in
}

// registerOutput returns the output and whether it is known.
func registerOutput(x any) (RegisterOutput, bool) {
	if x == nil {
		return RegisterOutput{Unknown: true}, false
	}
	out, ok := x.(RegisterOutput)
	if !ok {
		panic(fmt.Sprintf("linearizability: register model got an output of type %T, want RegisterOutput", x))
	}
	return out, !out.Unknown
}

// describeRegister reads like Read() → "1", Write("1"), CAS("1", "2") → false.
func describeRegister(input, output any) string {
	in := registerInput(input)
	out, known := registerOutput(output)
	var s string
	switch in.Op {
	case Read:
		s = "Read()"
	case Write:
		s = fmt.Sprintf("Write(%s)", shorten(in.Value))
	default:
		s = fmt.Sprintf("CAS(%s, %s)", shorten(in.Expected), shorten(in.Value))
	}
	switch {
	case !known:
		return s + " → ?"
	case in.Op == Read:
		return s + " → " + shorten(out.Value)
	case in.Op == CAS:
		return fmt.Sprintf("%s → %t", s, out.Ok)
	}
	return s
}
