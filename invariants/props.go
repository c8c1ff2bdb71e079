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

// ---- Figure 3 (global) ----

// ElectionSafety: at most one leader per term among views.
// Figure 3; §5.2. docs/proofs/election-safety.md
func ElectionSafety(views []View) *Violation { return nil /* TODO(invariants) */ }

// LeaderAppendOnly: a leader never overwrites or deletes entries in its log;
// prev and next are the same node, before and after one transition.
// Figure 3; §5.3.
func LeaderAppendOnly(prev, next *View) *Violation { return nil /* TODO(invariants) */ }

// LogMatching: if two logs hold an entry with the same index and term, the
// logs are identical in all entries up through that index (compared over
// what both still hold; an index at a snapshot base counts with BaseTerm).
// Figure 3; §5.3.
func LogMatching(views []View) *Violation { return nil /* TODO(invariants) */ }

// LeaderCompleteness: a leader holds every entry committed in a term before
// its own. Figure 3; §5.4.
func LeaderCompleteness(leader *View, committed []Committed) *Violation {
	return nil /* TODO(invariants) */
}

// StateMachineSafety: no two nodes hold (and so apply) different entries at
// one index at or below both their commitIndexes. Figure 3; §5.4.3.
func StateMachineSafety(views []View) *Violation { return nil /* TODO(invariants) */ }

// ---- local ----

// LocalState: log terms non-decreasing and ≤ Term; Base ≤ CommitIndex ≤
// LastIndex; LastApplied ≤ CommitIndex; VotedFor is None or a node.
func LocalState(v *View) *Violation { return nil /* TODO(invariants) */ }

// LocalStep: across one transition of a node (not a restart): Term never
// decreases; VotedFor changes only with Term; CommitIndex never decreases;
// Base never decreases.
func LocalStep(prev, next *View) *Violation { return nil /* TODO(invariants) */ }

// PersistBeforeSend: when a message leaves v, its Term, VotedFor and log
// (last index and term) equal what v has persisted. Nil Persisted: holds.
func PersistBeforeSend(v *View) *Violation { return nil /* TODO(invariants) */ }
