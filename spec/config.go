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

	Restart   bool // enable Restart(i)
	Duplicate bool // enable DuplicateMessage(m)
	Drop      bool // enable DropMessage(m)

	// FastBackup makes rejections carry ConflictTerm/ConflictIndex and the
	// leader use them, as the reference implementation does.
	FastBackup bool
	// Symmetry identifies states that differ only by a renaming of the
	// servers (fingerprints of the least encoding over permutations).
	Symmetry bool
	// NoHistoryInFingerprint leaves the history of committed entries out
	// of the fingerprint. States are then merged as TLC would merge them
	// without history variables; LeaderCompleteness is checked against the
	// history of the first path that reached a state, so it may miss
	// violations. Default: history is in the fingerprint.
	NoHistoryInFingerprint bool

	Bug Bug

	_ struct{} // disallow positional literals, for extensibility
}

// Validate checks c against the fixed capacities and fills defaults.
func (c *Config) Validate() error {
	if c.MaxCopies == 0 {
		c.MaxCopies = 1
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
	case c.Bug < BugNone || c.Bug > BugFastBackupSkip:
		return fmt.Errorf("unknown bug %d", int(c.Bug))
	case c.Bug == BugForgetVote && !c.Restart:
		return fmt.Errorf("bug %s needs Restart on", c.Bug)
	case c.Bug == BugFastBackupSkip && !c.FastBackup:
		return fmt.Errorf("bug %s needs FastBackup on", c.Bug)
	}
	return nil
}

// String is the configuration in one line, for reports.
func (c Config) String() string {
	var on []string
	for _, o := range []struct {
		name string
		on   bool
	}{{"restart", c.Restart}, {"duplicate", c.Duplicate}, {"drop", c.Drop}, {"fastbackup", c.FastBackup}, {"symmetry", c.Symmetry}} {
		if o.on {
			on = append(on, o.name)
		}
	}
	if len(on) == 0 {
		on = append(on, "no faults")
	}
	return fmt.Sprintf("servers=%d values=%d maxterm=%d maxlog=%d maxcopies=%d %s bug=%s",
		c.Servers, c.Values, c.MaxTerm, c.MaxLog, c.MaxCopies, strings.Join(on, ","), c.Bug)
}
