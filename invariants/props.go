package invariants

// This file is the contract of the properties: their names and signatures.
// Every property returns nil when it holds, and a *Violation naming itself
// when it does not.

// Violation is a property found broken.
type Violation struct {
	Property string // e.g. "ElectionSafety", as in DESIGN.md and docs/proofs
	Nodes    []int  // the node(s) involved
	Term     int    // the term concerned, or 0
	Index    int    // the log index concerned, or 0
	Found    string // what was found
	Want     string // what was required
	Trace    []string
}

// Property names, one per property, used in code, spec, tests and docs.
const (
	ElectionSafetyName     = "ElectionSafety"
	LeaderAppendOnlyName   = "LeaderAppendOnly"
	LogMatchingName        = "LogMatching"
	LeaderCompletenessName = "LeaderCompleteness"
	StateMachineSafetyName = "StateMachineSafety"

	TermMonotonicName     = "TermMonotonic"
	VotedForStableName    = "VotedForStable"
	LogTermsName          = "LogTerms"
	CommitIndexName       = "CommitIndex"
	LastAppliedName       = "LastApplied"
	ApplyOrderName        = "ApplyOrder"
	SnapshotMonotonicName = "SnapshotMonotonic"
	PersistBeforeSendName = "PersistBeforeSend"
)

// Committed is an entry known to be committed, with the term in which it was
// first known committed (the term of the node whose commitIndex first
// covered it). LeaderCompleteness binds only leaders of later terms.
type Committed struct {
	Index  int
	Entry  Entry
	InTerm int
}

// The properties themselves: the global ones of Figure 3 are in
// global.go, the local ones in local.go. The Observer (observer.go) checks
// the same properties incrementally as transitions happen.
