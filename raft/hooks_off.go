//go:build !invariants

package raft

// Without -tags invariants the hooks compile to nothing: observe is an
// empty function, inlined, and its arguments are dropped with it.

const invariantsOn = false

// Entry is one log entry: a command, and the term in which a leader first
// received it (Figure 2: "each entry contains command for state machine,
// and term when entry was received by leader (first index is 1)"). With
// -tags invariants it is the same type as invariants.Entry, so the hooks
// can show the log without copying it.
type Entry struct {
	Term    int
	Command any
}

type hookState struct{}

func (hookState) init(*node) {}

func (r *node) observe(k evKind, m *Message, x any, a int) {}

// observerOK says whether o can be a Config's Observer: without the hooks
// any value can, and none is used.
func observerOK(any) bool { return true }
