//go:build invariants

package raft

import (
	"fmt"

	"github.com/raftspec/raftspec/invariants"
)

// With -tags invariants every transition of the core is reported to the
// process-wide invariants.Observer current when the node was made, which
// checks the properties of Figure 3 and the local ones after each.

const invariantsOn = true

// Entry is one log entry (see hooks_off.go); here it is invariants.Entry
// itself, so a View can alias the log instead of copying it.
type Entry = invariants.Entry

type hookState struct {
	obs  *invariants.Observer
	view invariants.View
	dur  invariants.Durable
}

func (h *hookState) init(r *node) { h.obs = invariants.Current() }

var evKinds = [...]invariants.Kind{
	evStart: invariants.Start, evReceive: invariants.Receive, evReply: invariants.Reply,
	evTick: invariants.Tick, evPropose: invariants.Propose, evApply: invariants.Apply,
	evCompact: invariants.Compact, evSend: invariants.Send, evPersist: invariants.Persist,
}

func (r *node) observe(k evKind, desc func() string) {
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
	ev := invariants.Event{Kind: evKinds[k], Desc: fmt.Sprintf("n%d %s", r.id, desc()), LogFrom: r.log.changedFrom}
	if k == evStart && r.log.lastIndex() > 0 {
		ev.LogFrom = max(r.log.base, 1) // a restarted node's whole log is new to the Observer
	}
	r.log.changedFrom = 0
	h.obs.Observe(&h.view, ev)
}
