package invariants

import "fmt"

// The local properties: each concerns one node, at one moment (LocalState)
// or across one of its transitions (LocalStep), or a message leaving it
// (PersistBeforeSend). docs/proofs/local.md says why each must hold.

// LocalState checks what must hold of one node at any moment:
//   - LogTerms: terms never decrease along the log, and none exceeds
//     currentTerm (leaders append entries of their own term, Figure 2);
//   - CommitIndex: Base ≤ CommitIndex ≤ LastIndex (only committed state
//     is compacted; a node cannot commit what it does not hold);
//   - LastApplied: LastApplied ≤ CommitIndex (Figure 2: "If commitIndex >
//     lastApplied: increment lastApplied, apply");
//   - VotedForStable: VotedFor is None or a node (not negative garbage).
//
// It walks the whole log; the Observer checks the log terms only from the
// first index a transition changed (logTermsFrom).
func LocalState(v *View) *Violation {
	if x := logTermsFrom(v, v.Base+1); x != nil {
		return x
	}
	return localBounds(v)
}

// localBounds is LocalState without the walk along the log.
func localBounds(v *View) *Violation {
	switch {
	case v.VotedFor < None:
		return local(VotedForStableName, v, 0, fmt.Sprintf("votedFor %d", v.VotedFor), "None (-1) or a node")
	case v.LastTerm() > v.Term:
		return local(LogTermsName, v, v.LastIndex(), fmt.Sprintf("last entry %d/%d beyond currentTerm %d", v.LastIndex(), v.LastTerm(), v.Term),
			"no entry of a term beyond currentTerm")
	case v.CommitIndex > v.LastIndex():
		return local(CommitIndexName, v, v.CommitIndex, fmt.Sprintf("commitIndex %d beyond the last index %d", v.CommitIndex, v.LastIndex()),
			"commitIndex ≤ last index")
	case v.CommitIndex < v.Base:
		return local(SnapshotMonotonicName, v, v.Base, fmt.Sprintf("snapshot base %d beyond commitIndex %d", v.Base, v.CommitIndex),
			"only committed entries compacted (base ≤ commitIndex)")
	case v.LastApplied > v.CommitIndex:
		return local(LastAppliedName, v, v.LastApplied, fmt.Sprintf("lastApplied %d beyond commitIndex %d", v.LastApplied, v.CommitIndex),
			"lastApplied ≤ commitIndex")
	}
	return nil
}

// logTermsFrom checks that the log terms do not decrease from index from
// (at least Base+1) to the end, comparing each with the one before it.
func logTermsFrom(v *View, from int) *Violation {
	from = max(from, v.Base+1)
	prev, _ := v.TermAt(from - 1)
	for i := from; i <= v.LastIndex(); i++ {
		t := v.Log[i-v.Base-1].Term
		if t < prev {
			return local(LogTermsName, v, i, fmt.Sprintf("term %d at %d after term %d at %d", t, i, prev, i-1),
				"log terms non-decreasing")
		}
		prev = t
	}
	return nil
}

// LocalStep checks what must hold across one transition of one node
// within one incarnation (prev and next are the node before and after; a
// restart is not a step):
//   - TermMonotonic: currentTerm never decreases (§5.1);
//   - VotedForStable: votedFor changes only with currentTerm, except from
//     None to a vote (one vote per term, §5.2);
//   - CommitIndex: commitIndex never decreases;
//   - LastApplied (ApplyOrder): lastApplied never decreases;
//   - SnapshotMonotonic: the snapshot base never moves backwards.
func LocalStep(prev, next *View) *Violation {
	if prev == nil || next == nil || prev.ID != next.ID {
		return nil
	}
	switch {
	case next.Term < prev.Term:
		return local(TermMonotonicName, next, 0, fmt.Sprintf("currentTerm went from %d to %d", prev.Term, next.Term),
			"currentTerm never decreases")
	case next.Term == prev.Term && prev.VotedFor != None && next.VotedFor != prev.VotedFor:
		return local(VotedForStableName, next, 0, fmt.Sprintf("votedFor changed from n%d to %s in term %d", prev.VotedFor, showVote(next.VotedFor), next.Term),
			"votedFor changes only with a new term")
	case next.CommitIndex < prev.CommitIndex:
		return local(CommitIndexName, next, prev.CommitIndex, fmt.Sprintf("commitIndex went from %d to %d", prev.CommitIndex, next.CommitIndex),
			"commitIndex never decreases")
	case next.LastApplied < prev.LastApplied:
		return local(ApplyOrderName, next, prev.LastApplied, fmt.Sprintf("lastApplied went from %d to %d", prev.LastApplied, next.LastApplied),
			"the applied state never moves backwards")
	case next.Base < prev.Base:
		return local(SnapshotMonotonicName, next, prev.Base, fmt.Sprintf("snapshot base went from %d/%d to %d/%d", prev.Base, prev.BaseTerm, next.Base, next.BaseTerm),
			"the snapshot base never moves backwards")
	}
	return nil
}

// PersistBeforeSend checks, at the moment a message leaves v, that the
// state it may depend on is what v has persisted: currentTerm, votedFor
// and the log (by its last index and term). Figure 2: persistent state is
// "updated on stable storage before responding to RPCs". A View without
// Persisted says nothing, and holds.
func PersistBeforeSend(v *View) *Violation {
	p := v.Persisted
	if p == nil {
		return nil
	}
	if p.Term == v.Term && p.VotedFor == v.VotedFor && p.LastIndex == v.LastIndex() && p.LastTerm == v.LastTerm() {
		return nil
	}
	return local(PersistBeforeSendName, v, v.LastIndex(),
		fmt.Sprintf("sent with term %d vote %s log %d/%d in memory, but term %d vote %s log %d/%d persisted",
			v.Term, showVote(v.VotedFor), v.LastIndex(), v.LastTerm(), p.Term, showVote(p.VotedFor), p.LastIndex, p.LastTerm),
		"state persisted before any message that depends on it is sent")
}

func local(prop string, v *View, index int, found, want string) *Violation {
	return &Violation{Property: prop, Nodes: []int{v.ID}, Term: v.Term, Index: index, Found: found, Want: want}
}

func showVote(n int) string {
	if n == None {
		return "None"
	}
	return fmt.Sprintf("n%d", n)
}
