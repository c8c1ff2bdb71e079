package spec

import (
	"fmt"
	"math/bits"

	"github.com/raftspec/raftspec/invariants"
)

// The properties checked in every state: those of package invariants (the
// same functions that check the reference core and students' Rafts),
// evaluated on Views of the spec's servers, and CommittedPrefix, which
// only a global state with its history can express.

// ElectableCompletenessName is the spec's own property: a server whose
// log is at least as up-to-date (§5.4.1) as the log of every server of
// some quorum, itself included, holds every committed entry. Such a
// server could win an election now, so this is Leader Completeness for
// every potential leader, one election ahead. It holds in Raft: a
// committed entry and an entry of the term that committed it are on a
// quorum, which meets that quorum; the proof of §5.4.3 then applies. (The
// etcd and CCF TLA+ specs check a similar MoreUpToDateCorrectInv.)
const ElectableCompletenessName = "ElectableCompleteness"

// CommittedPrefixName is the spec's own property: every server's
// committed prefix (its log through its commitIndex) is a prefix of the
// log of entries ever known committed. So the committed prefixes of any
// two servers, now or at any two moments, are comparable.
const CommittedPrefixName = "CommittedPrefix"

// propScratch is a worker's scratch space for Views. The Views' logs
// alias its arrays, so converting a State allocates nothing.
type propScratch struct {
	views     [MaxServers]invariants.View
	logs      [MaxServers][MaxLog]invariants.Entry
	ghosts    [MaxServers]invariants.View
	committed [MaxLog]invariants.Committed
	entries   [MaxLog]CommittedEntry
	prev      invariants.View
	prevLog   [MaxLog]invariants.Entry
	next      invariants.View
	nextLog   [MaxLog]invariants.Entry
}

// fillView makes v the View of server i of s; its Log aliases log. The
// spec has no state machine: a committed entry counts as applied at once
// (LastApplied = CommitIndex).
func fillView(v *invariants.View, log *[MaxLog]invariants.Entry, s *State, i int) {
	sv := &s.Servers[i]
	for k := 0; k < int(sv.LogLen); k++ {
		log[k] = invariants.Entry{Term: int(sv.Log[k].Term), Command: int(sv.Log[k].Value)}
	}
	vf := invariants.None
	if sv.VotedFor != Nil {
		vf = int(sv.VotedFor)
	}
	*v = invariants.View{
		ID: i, Term: int(sv.CurrentTerm), VotedFor: vf, Role: invariants.Role(sv.State),
		Log: log[:sv.LogLen], CommitIndex: int(sv.CommitIndex), LastApplied: int(sv.CommitIndex),
	}
}

// Views returns a View of every server of s, for package invariants. The
// Views are valid until the next call with the same scratch space.
func (ps *propScratch) Views(s *State, n int) []invariants.View {
	for i := 0; i < n; i++ {
		fillView(&ps.views[i], &ps.logs[i], s, i)
	}
	return ps.views[:n]
}

// Views returns a View of every server of s, as package invariants sees
// them (ID i for server ni). The spec has no snapshots (Base is 0) and no
// state machine (LastApplied = CommitIndex).
func Views(s *State, n int) []invariants.View {
	var ps propScratch
	v := ps.Views(s, n)
	out := make([]invariants.View, n)
	copy(out, v)
	for i := range out {
		out[i].Log = append([]invariants.Entry(nil), out[i].Log...)
	}
	return out
}

// Check evaluates the state properties on s. A violation is returned as
// an error whose dynamic type is *invariants.Violation.
func (w *worker) Check(s *State) error {
	if v := w.check(s); v != nil {
		return v
	}
	return nil
}

func (w *worker) check(s *State) *invariants.Violation {
	ps, cfg := &w.prop, &w.p.cfg
	views := ps.Views(s, w.p.n)

	// ElectionSafety: among the current leaders, and with the history,
	// among all who ever led a term.
	if v := invariants.ElectionSafety(views); v != nil {
		return v
	}
	if !cfg.NoHistory {
		for t := 1; t <= cfg.MaxTerm; t++ {
			if set := s.LeadersIn[t]; set&(set-1) != 0 { // two or more
				g := ps.ghosts[:0]
				for ; set != 0; set &= set - 1 {
					g = append(g, invariants.View{ID: bits.TrailingZeros8(set), Term: t, Role: invariants.Leader, VotedFor: invariants.None})
				}
				if v := invariants.ElectionSafety(g); v != nil {
					return v
				}
			}
		}
	}
	if v := invariants.LogMatching(views); v != nil {
		return v
	}
	if v := w.leaderCompleteness(s, views); v != nil {
		return v
	}
	if v := invariants.StateMachineSafety(views); v != nil {
		return v
	}
	if !cfg.Figure3Only {
		if !cfg.NoHistory {
			if v := committedPrefix(s, views); v != nil {
				return v
			}
		}
		if v := w.electableCompleteness(s); v != nil {
			return v
		}
	}
	for i := range views {
		if v := invariants.LocalState(&views[i]); v != nil {
			return v
		}
	}
	return nil
}

// leaderCompleteness checks every leader against the entries known
// committed in earlier terms: the history, or without it what the state
// shows (the committed prefix of each server in a lower term than the
// leader's was committed in a term no later than that server's).
func (w *worker) leaderCompleteness(s *State, views []invariants.View) *invariants.Violation {
	ps := &w.prop
	for l := range views {
		leader := &views[l]
		if leader.Role != invariants.Leader {
			continue
		}
		if !w.p.cfg.NoHistory {
			c := ps.committed[:s.NCommitted]
			for k := range c {
				e := &s.Committed[k]
				c[k] = invariants.Committed{Index: k + 1, Entry: invariants.Entry{Term: int(e.Term), Command: int(e.Value)}, InTerm: int(e.InTerm)}
			}
			if v := invariants.LeaderCompleteness(leader, c); v != nil {
				return v
			}
			continue
		}
		for f := range views {
			fv := &views[f]
			if fv.Term >= leader.Term || fv.CommitIndex == 0 {
				continue
			}
			c := ps.committed[:fv.CommitIndex]
			for k := range c {
				c[k] = invariants.Committed{Index: k + 1, Entry: fv.Log[k], InTerm: fv.Term}
			}
			if v := invariants.LeaderCompleteness(leader, c); v != nil {
				return v
			}
		}
	}
	return nil
}

// committedPrefix checks CommittedPrefix against the history.
func committedPrefix(s *State, views []invariants.View) *invariants.Violation {
	for i := range views {
		v := &views[i]
		sv := &s.Servers[i]
		for k := 0; k < int(min(sv.CommitIndex, s.NCommitted)); k++ {
			if sv.Log[k] != s.Committed[k].Entry {
				c := s.Committed[k]
				return &invariants.Violation{
					Property: CommittedPrefixName, Nodes: []int{v.ID}, Term: v.Term, Index: k + 1,
					Found: fmt.Sprintf("n%d has %d/%d command %d under its commitIndex %d", v.ID, k+1, sv.Log[k].Term, sv.Log[k].Value, sv.CommitIndex),
					Want:  fmt.Sprintf("%d/%d command %d, committed in term %d", k+1, c.Term, c.Value, c.InTerm),
				}
			}
		}
	}
	return nil
}

// CheckStep evaluates the transition properties on the servers the step
// changed: LeaderAppendOnly and the local step properties. A restart is
// not a step of the restarted server (its volatile state starts afresh,
// as package invariants' Observer treats a Start).
func (w *worker) CheckStep(prev *State, a Action, next *State) error {
	ps := &w.prop
	for k := 0; k < w.p.n; k++ {
		if prev.Servers[k] == next.Servers[k] {
			continue
		}
		fillView(&ps.prev, &ps.prevLog, prev, k)
		fillView(&ps.next, &ps.nextLog, next, k)
		if v := invariants.LeaderAppendOnly(&ps.prev, &ps.next); v != nil {
			return v
		}
		if a.Kind == ActRestart && int(a.I) == k {
			continue
		}
		if v := invariants.LocalStep(&ps.prev, &ps.next); v != nil {
			return v
		}
	}
	return nil
}

// upToDate reports whether a's log is at least as up-to-date as b's
// (§5.4.1): a later last term, or the same last term and at least as long.
func upToDate(a, b *Server) bool {
	if ta, tb := a.LastTerm(), b.LastTerm(); ta != tb {
		return ta > tb
	}
	return a.LogLen >= b.LogLen
}

// electableCompleteness checks ElectableCompleteness. The committed
// entries are the history's or, without it, the committed prefix of the
// server with the highest commitIndex (StateMachineSafety, checked first,
// makes the committed prefixes comparable).
func (w *worker) electableCompleteness(s *State) *invariants.Violation {
	n := w.p.n
	committed := s.Committed[:s.NCommitted]
	if w.p.cfg.NoHistory {
		best := 0
		for i := 1; i < n; i++ {
			if s.Servers[i].CommitIndex > s.Servers[best].CommitIndex {
				best = i
			}
		}
		b := &s.Servers[best]
		c := w.prop.entries[:b.CommitIndex]
		for k := range c {
			c[k] = CommittedEntry{Entry: b.Log[k]}
		}
		committed = c
	}
	if len(committed) == 0 {
		return nil
	}
	for i := 0; i < n; i++ {
		si := &s.Servers[i]
		var set uint8
		for j := 0; j < n; j++ {
			if upToDate(si, &s.Servers[j]) {
				set |= 1 << j
			}
		}
		if 2*bits.OnesCount8(set) <= n {
			continue
		}
		for k := range committed {
			c := &committed[k]
			if k < int(si.LogLen) && si.Log[k] == c.Entry {
				continue
			}
			found := fmt.Sprintf("n%d's log ends at %d", i, si.LogLen)
			if k < int(si.LogLen) {
				found = fmt.Sprintf("n%d has %d/%d command %d", i, k+1, si.Log[k].Term, si.Log[k].Value)
			}
			return &invariants.Violation{
				Property: ElectableCompletenessName, Nodes: []int{i}, Term: int(si.CurrentTerm), Index: k + 1,
				Found: fmt.Sprintf("%s, and its log (last %d/%d) is as up-to-date as those of %s, a quorum",
					found, si.LogLen, si.LastTerm(), setText(set, n)),
				Want: fmt.Sprintf("committed entry %d/%d command %d", k+1, c.Term, c.Value),
			}
		}
	}
	return nil
}
