package sim

import (
	"fmt"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raft"
)

// The simulator's own checks, after each input: ElectionSafety from each
// node's Status, the local order of commitIndex, lastApplied and the
// base, the Observer's verdict, and liveness after healing.

// done says whether the liveness phase is over: a command proposed after
// healing was applied by every server.
func (s *Sim) done() bool {
	if !s.healed || s.healCmd == 0 {
		return false
	}
	for _, nd := range s.nodes {
		if nd.down || nd.svc.maxCmd < s.healCmd {
			return false
		}
	}
	return true
}

func (s *Sim) livenessFailure() error {
	if s.healCmd == 0 {
		return fmt.Errorf("Liveness: no leader accepted a command within %v of healing", s.opt.Liveness)
	}
	var lag []string
	for i, nd := range s.nodes {
		if nd.svc.maxCmd < s.healCmd {
			lag = append(lag, fmt.Sprintf("n%d (applied through %d)", i, nd.svc.last))
		}
	}
	return fmt.Errorf("Liveness: command %d, proposed after healing, not applied by %v within %v of healing", s.healCmd, lag, s.opt.Liveness)
}

// changes logs what an input changed of node i's state, and checks
// ElectionSafety and that commitIndex does not go back.
func (s *Sim) changes(i int, a, b raft.Status) {
	switch {
	case b.Leader && !a.Leader:
		s.log.line(s, i, topicElection, "leader", "term %d last %d/%d", b.Term, b.LastIndex, b.LastTerm)
	case b.Candidate && (!a.Candidate || b.Term != a.Term):
		s.log.line(s, i, topicElection, "candidate", "term %d", b.Term)
	case !b.Leader && !b.Candidate && (a.Leader || a.Candidate):
		s.log.line(s, i, topicElection, "follower", "term %d", b.Term)
	case b.Term != a.Term:
		s.log.line(s, i, topicElection, "term", "%d", b.Term)
	}
	if b.Leader && (!a.Leader || a.Term != b.Term) {
		// A new claim to lead: counted (Result.Elected), and given to the
		// Observer, whose ElectionSafety check holds it against every other
		// claim of that term, in every build.
		s.leaders[b.Term] = i
		s.obs.ClaimsLeader(i, b.Term)
	}
	if b.CommitIndex != a.CommitIndex {
		s.log.line(s, i, topicCommit, "commit", "%d → %d", a.CommitIndex, b.CommitIndex)
	}
	nd := s.nodes[i]
	if err := localOrder(i, nd.last, b); err != nil {
		s.fail(err)
	}
	nd.last = b
}

// localOrder checks the local properties of node i across one input, from
// its Status before (last) to after (now), in every build (-tags
// invariants checks them too, on the whole state): invariants.LocalStep
// (currentTerm, votedFor, commitIndex, lastApplied and the snapshot's base
// never go back within an incarnation), and base, lastApplied ≤
// commitIndex ≤ the last index (invariants.LocalState's bounds, which
// need the log a Status does not carry).
func localOrder(i int, last, now raft.Status) error {
	if now == last {
		return nil // most inputs (ticks above all) change nothing a Status shows
	}
	prev, next := statusView(last), statusView(now)
	if v := invariants.LocalStep(&prev, &next); v != nil {
		return v
	}
	if now.Base > now.CommitIndex || now.LastApplied > now.CommitIndex || now.CommitIndex > now.LastIndex {
		return violation(invariants.CommitIndexName, i, now.Term, 0, fmt.Sprintf("base %d, lastApplied %d, commitIndex %d, last index %d", now.Base, now.LastApplied, now.CommitIndex, now.LastIndex),
			"base, lastApplied ≤ commitIndex ≤ last index")
	}
	return nil
}

// statusView is what a Status tells of a node, as the properties see it
// (no log).
func statusView(st raft.Status) invariants.View {
	return invariants.View{ID: st.ID, Term: st.Term, VotedFor: st.VotedFor, Base: st.Base,
		CommitIndex: st.CommitIndex, LastApplied: st.LastApplied}
}

// check runs the Observer's verdict after each event.
func (s *Sim) check() {
	if err := s.obs.Err(); err != nil {
		s.fail(err)
	}
}
