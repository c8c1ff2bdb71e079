package invariants

// Kind says what kind of transition an Event reports.
type Kind int

const (
	Start   Kind = iota // a node was made: fresh, or restarted from persisted state
	Receive             // a request was handled (and its reply produced)
	Reply               // a reply to one of the node's requests was handled
	Tick                // a clock tick that changed state (timeout, heartbeat)
	Propose             // a command was appended by the leader (Start)
	Commit              // commitIndex advanced
	Apply               // entries or a snapshot handed to the service
	Compact             // the service's snapshot trimmed the log
	Send                // a message left the node
	Persist             // state was written to stable storage
)

var kindNames = [...]string{"start", "receive", "reply", "tick", "propose", "commit", "apply", "compact", "send", "persist"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "Kind(?)"
}

// Event is one transition of one node, reported after it happened.
type Event struct {
	Kind Kind
	// Desc is one transcript line, e.g.
	// "n2 AppendEntries from n1 term 3 prev 5/2 → reject conflict 2@4".
	// A reporter that would rather not format a line per transition
	// leaves it empty and sets Note.
	Desc string
	// Note is the transcript line as values, used when Desc is empty. The
	// Observer keeps it and formats it only if a violation is reported.
	Note Note
	// LogFrom is the lowest index whose entry this transition appended,
	// overwrote or deleted; 0 when the log's entries did not change.
	// Compaction (moving Base up over entries that stay the same) is not a
	// change of entries. The Observer re-checks only indices from LogFrom
	// on, so its cost is proportional to what changed.
	LogFrom int
}

// NoteInts is how many integers a Note holds.
const NoteInts = 32

// Note is a transcript line kept as values, so that reporting a
// transition formats nothing: the Observer copies the Note into the
// node's transcript and calls Format only for the lines a violation shows.
// Format must be a plain function, not a closure (which would be
// allocated on every transition); it appends the line to b.
type Note struct {
	Format func(b []byte, n *Note) []byte
	Ints   [NoteInts]int
	Value  any // one operand that is not an int (a command), or nil
}

// String formats the line.
func (n *Note) String() string {
	if n.Format == nil {
		return ""
	}
	return string(n.Format(nil, n))
}
