//go:build !invariants

package raft

// Without -tags invariants the hooks compile to nothing: invariantsOn is a
// constant false, so every observe call and its closure are removed.

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

func (r *node) observe(k evKind, desc func() string) {}
