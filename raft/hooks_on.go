//go:build invariants

package raft

import (
	"fmt"

	"github.com/raftspec/raftspec/invariants"
)

// With -tags invariants every transition of the core is reported to the
// invariants.Observer of its Config (none if nil), which
// checks the properties of Figure 3 and the local ones after each.
//
// A transition's transcript line is kept as values (an invariants.Note:
// the node's state, the message and its reply, packed as integers) and
// formatted by formatNote only if a violation is reported: reporting a
// transition formats nothing and allocates nothing.

const invariantsOn = true

// Entry is one log entry (see hooks_off.go); here it is invariants.Entry
// itself, so a View can alias the log instead of copying it.
type Entry = invariants.Entry

type hookState struct {
	obs  *invariants.Observer
	view invariants.View
	dur  invariants.Durable
	ev   invariants.Event
}

func (h *hookState) init(r *node) { h.obs, _ = r.cfg.Observer.(*invariants.Observer) }

// observerOK says whether o can be a Config's Observer.
func observerOK(o any) bool {
	_, ok := o.(*invariants.Observer)
	return o == nil || ok
}

var evKinds = [numEvKinds]invariants.Kind{
	evStart: invariants.Start, evReceive: invariants.Receive, evReply: invariants.Reply,
	evDropStale: invariants.Reply, evHeartbeat: invariants.Tick, evTimeout: invariants.Tick,
	evPropose: invariants.Propose, evApply: invariants.Apply, evApplySnapshot: invariants.Apply,
	evCompact: invariants.Compact, evSend: invariants.Send, evPersist: invariants.Persist,
}

// The layout of a Note's integers.
const (
	noteKind     = iota // the evKind
	noteID              // the node
	noteRole            // and its state after the transition
	noteTerm            //
	noteVote            //
	noteCommit          //
	noteLast            // last index
	noteLastTerm        //
	noteBase            //
	noteBaseTerm        //
	noteApplied         //
	noteArg             // observe's a
	noteHasReply        // 1 if noteReply holds the reply to noteMsg
	noteMsg             // the message, packMsg'd
	noteReply    = noteMsg + msgInts
	noteEnd      = noteReply + msgInts
)

var _ [invariants.NoteInts - noteEnd]struct{} // the layout fits in a Note

// observe reports transition k to the Observer: m is the message it
// handled or sent, x and a what else its transcript line shows (the
// command proposed, the first index applied).
func (r *node) observe(k evKind, m *Message, x any, a int) {
	h := &r.hooks
	if h.obs == nil {
		return
	}
	h.dur = invariants.Durable{Term: r.durable.term, VotedFor: r.durable.votedFor,
		LastIndex: r.durable.lastIndex, LastTerm: r.durable.lastTerm}
	h.view = invariants.View{
		ID: r.id, Term: r.currentTerm, VotedFor: r.votedFor, Role: invariants.Role(r.role),
		Base: r.log.base, BaseTerm: r.log.baseTerm, Log: r.log.entries,
		CommitIndex: r.commitIndex, LastApplied: r.lastApplied, Persisted: &h.dur,
	}
	ev := &h.ev
	ev.Kind, ev.LogFrom = evKinds[k], r.log.changedFrom
	if k == evStart && r.log.lastIndex() > 0 {
		ev.LogFrom = max(r.log.base, 1) // a restarted node's whole log is new to the Observer
	}
	r.log.changedFrom = 0

	n := &ev.Note
	n.Format, n.Value = formatNote, x
	v := &n.Ints
	v[noteKind], v[noteID], v[noteRole], v[noteTerm], v[noteVote] = int(k), r.id, int(r.role), r.currentTerm, r.votedFor
	v[noteCommit], v[noteLast], v[noteLastTerm] = r.commitIndex, r.log.lastIndex(), r.log.lastTerm()
	v[noteBase], v[noteBaseTerm], v[noteApplied], v[noteArg] = r.log.base, r.log.baseTerm, r.lastApplied, a
	v[noteHasReply] = 0
	if m != nil {
		packMsg(v[noteMsg:noteReply], m)
		if k == evReceive || k == evReply {
			if j := len(r.msgs); j > 0 && r.msgs[j-1].Kind.isReply() && r.msgs[j-1].To == m.From {
				v[noteHasReply] = 1
				packMsg(v[noteReply:noteEnd], &r.msgs[j-1])
			}
		}
	}
	h.obs.Observe(&h.view, *ev)
}

// formatNote writes the transcript line of a Note that observe filled.
func formatNote(b []byte, n *invariants.Note) []byte {
	v := &n.Ints
	b = fmt.Appendf(b, "n%d ", v[noteID])
	switch evKind(v[noteKind]) {
	case evStart:
		b = append(b, "start"...)
	case evPersist:
		b = fmt.Appendf(b, "persist term %d vote %d last %d/%d", v[noteTerm], v[noteVote], v[noteLast], v[noteLastTerm])
	case evSend:
		b = appendMsg(append(b, "send "...), v[noteMsg:noteReply])
	case evHeartbeat:
		b = append(b, "heartbeat"...)
	case evTimeout:
		b = fmt.Appendf(b, "election timeout → candidate term %d", v[noteTerm])
	case evDropStale:
		b = appendMsg(append(b, "drop stale "...), v[noteMsg:noteReply])
	case evReceive, evReply:
		b = appendMsg(append(b, "recv "...), v[noteMsg:noteReply])
		if v[noteHasReply] != 0 {
			b = appendMsg(append(b, " → "...), v[noteReply:noteEnd])
		}
		b = fmt.Appendf(b, "; %v term %d commit %d last %d/%d", role(v[noteRole]), v[noteTerm], v[noteCommit], v[noteLast], v[noteLastTerm])
	case evPropose:
		b = fmt.Appendf(b, "propose %v at %d term %d", n.Value, v[noteLast], v[noteTerm])
	case evCompact:
		b = fmt.Appendf(b, "compact through %d/%d", v[noteBase], v[noteBaseTerm])
	case evApplySnapshot:
		b = fmt.Appendf(b, "apply snapshot %d/%d", v[noteBase], v[noteBaseTerm])
	case evApply:
		b = fmt.Appendf(b, "apply %d..%d", v[noteArg], v[noteApplied])
	}
	return b
}
