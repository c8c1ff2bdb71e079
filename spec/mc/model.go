// Package mc is a generic explicit-state model checker: breadth-first
// search over the states of any Model, so that the first violation found is
// at the smallest depth and its trace is a shortest counterexample.
//
// States are identified by a 64-bit fingerprint of their canonical
// encoding, kept in a compact set together with the fingerprint of the
// state each was first reached from. The frontier of the search is kept as
// encodings, not states, so memory grows with the encoding size. A
// violation's trace is rebuilt by replaying the model from its initial
// states along the recorded fingerprints, as TLC does.
//
// Symmetry reduction is the model's business: a model whose Encode returns
// the same bytes for all permutations of its servers (for instance the
// least encoding over the permutations) makes the checker explore one
// state per orbit.
package mc

// Model is what the checker explores. S is a state: it must be a value
// type that assignment copies (arrays, not slices), because the checker
// copies states it keeps. A is the label of an action, kept in traces.
type Model[S, A any] interface {
	// Init returns the initial states.
	Init() ([]S, error)
	// NewWorker returns the per-goroutine half of the model; each worker
	// is used by one goroutine only, so it may keep scratch buffers.
	NewWorker() Worker[S, A]
}

// Worker computes successors, encodes states and checks properties.
type Worker[S, A any] interface {
	// Next calls yield once for every action enabled in s, with the action
	// and the state it leads to. The state passed to yield is valid only
	// during the call. An error means the model itself failed (for
	// instance a bound it cannot represent), not a property.
	Next(s *S, yield func(a A, next *S)) error
	// Encode appends the canonical encoding of s to dst. Two states get
	// the same encoding iff the checker should treat them as one.
	Encode(dst []byte, s *S) []byte
	// Decode reads back a state written by Encode (possibly a permutation
	// of the one encoded, if Encode canonicalises).
	Decode(src []byte, s *S) error
	// Check evaluates the state properties on s; an error is a violation.
	Check(s *S) error
	// CheckStep evaluates the transition properties on one step; an error
	// is a violation.
	CheckStep(prev *S, a A, next *S) error
}

// Step is one step of a trace: the action taken (the zero A for the
// initial state) and the state it led to.
type Step[S, A any] struct {
	Action A
	State  S
}

// Violation is a property found broken, with a shortest trace to it.
type Violation[S, A any] struct {
	Err   error        // what the property reported
	Trace []Step[S, A] // Trace[0] is an initial state; the last step is the violating one
}
