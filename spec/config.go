package spec

import (
	"fmt"
	"sort"
	"strings"
)

// Bug selects a planted bug: a deliberate mutation of one rule, each of
// which the checker must find. BugNone is the correct protocol.
type Bug int

const (
	BugNone Bug = iota
	// BugFigure8: AdvanceCommitIndex counts replicas of an entry from an
	// earlier term (drops "log[N].term = currentTerm"). §5.4.2, Figure 8.
	BugFigure8
	// BugVoteNoUpToDate: a vote is granted without the up-to-date check of
	// the candidate's log. §5.4.1.
	BugVoteNoUpToDate
	// BugForgetVote: Restart loses votedFor (not persisted). Figure 2,
	// "persistent state".
	BugForgetVote
	// BugNoPrevLogCheck: a follower accepts AppendEntries without checking
	// prevLogIndex/prevLogTerm against its log. §5.3.
	BugNoPrevLogCheck
	// BugFastBackupSkip: on a fast-backup rejection the leader jumps
	// nextIndex past the conflicting entries and takes the follower to
	// match everything before it (matchIndex = nextIndex-1). §5.3.
	BugFastBackupSkip
)

var bugNames = map[Bug]string{
	BugNone:           "none",
	BugFigure8:        "figure8",
	BugVoteNoUpToDate: "vote-no-uptodate",
	BugForgetVote:     "forget-vote",
	BugNoPrevLogCheck: "no-prevlog-check",
	BugFastBackupSkip: "fastbackup-skip",
}

func (b Bug) String() string {
	if n, ok := bugNames[b]; ok {
		return n
	}
	return fmt.Sprintf("Bug(%d)", int(b))
}

// BugNames lists the names ParseBug accepts.
func BugNames() []string {
	var ns []string
	for _, n := range bugNames {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}

// ParseBug returns the bug called name.
func ParseBug(name string) (Bug, error) {
	for b, n := range bugNames {
		if n == name {
			return b, nil
		}
	}
	return 0, fmt.Errorf("unknown bug %q (known: %s)", name, strings.Join(BugNames(), ", "))
}

// Config is the model's bounds and options. The zero value of an option is
// its default; Validate reports bounds outside what a State can hold.
type Config struct {
	Servers   int // number of servers (1..MaxServers)
	Values    int // client values v1..vN (1..15)
	MaxTerm   int // Timeout is disabled at this term (terms start at 1, as in raft.tla)
	MaxLog    int // ClientRequest is disabled at this log length (0..MaxLog)
	MaxCopies int // a send is disabled when the bag holds this many copies of the message (default 1)
	// MaxInFlight bounds the link between two servers: a server sends a
	// new request (RequestVote, AppendEntries) to another only while
	// fewer than MaxInFlight messages are in the network between the two,
	// either way. A response replaces its request, and is never held back
	// by it. 0 means the default, 2 (so two messages between a pair may be
	// reordered, or cross); a negative value means no bound, as in
	// raft.tla.
	MaxInFlight int

	Restart   bool // enable Restart(i)
	Duplicate bool // enable DuplicateMessage(m)
	Drop      bool // enable DropMessage(m)

	// FastBackup makes rejections carry ConflictTerm/ConflictIndex and the
	// leader use them, as the reference implementation does.
	FastBackup bool
	// SelfVoteMessage makes a candidate vote for itself as raft.tla does:
	// by a RequestVote request to itself, handled like any other. The
	// default votes atomically in Timeout, as the reference core's
	// campaign does; it is three steps shorter per election and makes
	// the state space smaller (see docs/spec.md).
	SelfVoteMessage bool
	// Symmetry identifies states that differ only by a renaming of the
	// servers: the fingerprint is that of a canonical representative.
	Symmetry bool
	// NoHistory drops the history variables (the servers that led each
	// term, the entries known committed and the term they were committed
	// in). States are then told apart by the protocol's variables alone,
	// as TLC would without raft.tla's history variables. ElectionSafety is
	// then checked among the current leaders only, and LeaderCompleteness
	// against the committed prefixes of servers in lower terms; both may
	// miss violations that the history shows.
	NoHistory bool

	// Figure3Only checks only the properties of package invariants, not
	// the spec's own (CommittedPrefix, ElectableCompleteness), which
	// catch some bugs in fewer steps.
	Figure3Only bool
	// FingerprintDeadVars keeps dead variables in the fingerprint (see
	// encode.go), so that states differing only in them count as
	// different, as in TLC without a VIEW. For comparison and testing.
	FingerprintDeadVars bool

	Bug Bug

	_ struct{} // disallow positional literals, for extensibility
}

// Validate checks c against the fixed capacities and fills defaults:
// MaxCopies 1, and the option a planted bug needs (Restart for
// forget-vote, FastBackup for fastbackup-skip).
func (c *Config) Validate() error {
	if c.MaxCopies == 0 {
		c.MaxCopies = 1
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 2
	}
	switch {
	case c.Servers < 1 || c.Servers > MaxServers:
		return fmt.Errorf("servers = %d, want 1..%d", c.Servers, MaxServers)
	case c.Values < 1 || c.Values > maxField:
		return fmt.Errorf("values = %d, want 1..%d", c.Values, maxField)
	case c.MaxTerm < 1 || c.MaxTerm > maxField:
		return fmt.Errorf("max term = %d, want 1..%d", c.MaxTerm, maxField)
	case c.MaxLog < 0 || c.MaxLog > MaxLog:
		return fmt.Errorf("max log = %d, want 0..%d", c.MaxLog, MaxLog)
	case c.MaxCopies < 1 || c.MaxCopies > maxField:
		return fmt.Errorf("max copies = %d, want 1..%d", c.MaxCopies, maxField)
	case c.MaxInFlight > MaxBag:
		return fmt.Errorf("max in flight = %d, want at most %d (or negative: no bound)", c.MaxInFlight, MaxBag)
	case c.Bug < BugNone || c.Bug > BugFastBackupSkip:
		return fmt.Errorf("unknown bug %d", int(c.Bug))
	}
	// A bug that lives in an optional part of the protocol turns it on.
	switch c.Bug {
	case BugForgetVote:
		c.Restart = true
	case BugFastBackupSkip:
		c.FastBackup = true
	}
	return nil
}

// String is the configuration in one line, for reports.
func (c Config) String() string {
	var on []string
	for _, o := range []struct {
		name string
		on   bool
	}{{"restart", c.Restart}, {"duplicate", c.Duplicate}, {"drop", c.Drop}} {
		if o.on {
			on = append(on, o.name)
		}
	}
	if len(on) == 0 {
		on = append(on, "no-faults")
	}
	for _, o := range []struct {
		name string
		on   bool
	}{{"fastbackup", c.FastBackup}, {"selfvote-msg", c.SelfVoteMessage}, {"symmetry", c.Symmetry}, {"no-history", c.NoHistory},
		{"figure3-only", c.Figure3Only}, {"fingerprint-dead-vars", c.FingerprintDeadVars}} {
		if o.on {
			on = append(on, o.name)
		}
	}
	inflight := fmt.Sprint(c.MaxInFlight)
	if c.MaxInFlight < 0 {
		inflight = "unbounded"
	}
	return fmt.Sprintf("servers=%d values=%d maxterm=%d maxlog=%d maxcopies=%d maxinflight=%s %s bug=%s",
		c.Servers, c.Values, c.MaxTerm, c.MaxLog, c.MaxCopies, inflight, strings.Join(on, ","), c.Bug)
}
