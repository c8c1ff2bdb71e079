package raft

import (
	"fmt"
	"strings"
)

// Cause says why a node sent a request. The driver counts its RPCs by
// kind and cause (Stats), to show where they go; the cause is not part of
// the protocol and never crosses the wire.
type Cause int

const (
	CauseElection   Cause = iota // a candidate's RequestVote (§5.2)
	CauseHeartbeat               // the leader's AppendEntries upon election and when a follower heard nothing for a heartbeat interval
	CauseNewEntries              // Propose: entries the follower lacks
	CauseBackup                  // a rejection: the retry from a lower nextIndex (§5.3)
	CauseCatchUp                 // a success, with more entries still to send
	numCauses
)

var causeNames = [...]string{"election", "heartbeat", "new entries", "backup", "catch-up"}

func (c Cause) String() string {
	if c >= 0 && c < numCauses {
		return causeNames[c]
	}
	return fmt.Sprintf("Cause(%d)", int(c))
}

// Stats counts the requests a peer sent, one Call each, by kind and cause.
type Stats struct {
	Calls [maxMsgKind][numCauses]int
	// Failed counts the Calls that returned false: the peer was crashed
	// or cut off, or the request or its reply was lost.
	Failed [maxMsgKind][numCauses]int
}

// Total is the number of Calls.
func (s *Stats) Total() int {
	n := 0
	for k := range s.Calls {
		for c := range s.Calls[k] {
			n += s.Calls[k][c]
		}
	}
	return n
}

// Add adds o's counts to s.
func (s *Stats) Add(o Stats) {
	for k := range s.Calls {
		for c := range s.Calls[k] {
			s.Calls[k][c] += o.Calls[k][c]
			s.Failed[k][c] += o.Failed[k][c]
		}
	}
}

// String is a table, one line per kind and cause that was sent:
//
//	AppendEntries   heartbeat     412  failed 130
func (s *Stats) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-16s %-12s %6d  failed %5d", "all", "", s.Total(), s.failed())
	for k := range s.Calls {
		for c := range s.Calls[k] {
			if s.Calls[k][c] > 0 {
				fmt.Fprintf(&b, "\n%-16v %-12v %6d  failed %5d", MsgKind(k), Cause(c), s.Calls[k][c], s.Failed[k][c])
			}
		}
	}
	return b.String()
}

func (s *Stats) failed() int {
	n := 0
	for k := range s.Failed {
		for c := range s.Failed[k] {
			n += s.Failed[k][c]
		}
	}
	return n
}
