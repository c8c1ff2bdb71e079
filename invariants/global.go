package invariants

import "fmt"

// The properties of Figure 3 of the paper, as plain functions over Views.
// They compare logs only over what both still hold: an index at or below a
// snapshot base is gone, except the base index itself, which counts as
// present with BaseTerm. Each is the simple twin of the Observer's
// incremental check (observer.go); TestObserverTwinOfPlainProperties holds
// the Observer against them on random states.

// ElectionSafety: at most one leader per term among views.
// Figure 3; §5.2. docs/proofs/election-safety.md
func ElectionSafety(views []View) *Violation {
	for i := range views {
		a := &views[i]
		if a.Role != Leader {
			continue
		}
		for j := i + 1; j < len(views); j++ {
			b := &views[j]
			if b.Role == Leader && b.Term == a.Term && b.ID != a.ID {
				return twoLeaders(a.Term, a.ID, b.ID)
			}
		}
	}
	return nil
}

// twoLeaders is the ElectionSafety violation: node second leads term, which
// first already leads.
func twoLeaders(term, first, second int) *Violation {
	return &Violation{
		Property: ElectionSafetyName, Nodes: []int{second, first}, Term: term,
		Found: fmt.Sprintf("n%d leader of term %d, which n%d already leads", second, term, first),
		Want:  "at most one leader per term",
	}
}

// LeaderAppendOnly: a leader never overwrites or deletes entries in its log;
// prev and next are the same node, before and after one transition.
// Compaction (entries going under next's Base) is not a deletion.
// Figure 3; §5.3. docs/proofs/leader-append-only.md
func LeaderAppendOnly(prev, next *View) *Violation {
	if prev == nil || next == nil || prev.ID != next.ID ||
		prev.Role != Leader || next.Role != Leader || prev.Term != next.Term {
		return nil
	}
	for i := max(prev.Base, 1); i <= prev.LastIndex(); i++ {
		if i < next.Base {
			continue // compacted into next's snapshot
		}
		pt, _ := prev.TermAt(i)
		nt, ok := next.TermAt(i)
		if !ok {
			return &Violation{
				Property: LeaderAppendOnlyName, Nodes: []int{next.ID}, Term: next.Term, Index: i,
				Found: fmt.Sprintf("entry %d/%d deleted (log now ends at %d)", i, pt, next.LastIndex()),
				Want:  "a leader's entries kept while it leads",
			}
		}
		pe, pok := prev.EntryAt(i)
		ne, nok := next.EntryAt(i)
		if nt != pt || (pok && nok && !sameCommand(pe.Command, ne.Command)) {
			return &Violation{
				Property: LeaderAppendOnlyName, Nodes: []int{next.ID}, Term: next.Term, Index: i,
				Found: fmt.Sprintf("entry %d/%d command %s overwritten by %d/%d command %s",
					i, pt, showCommand(pe.Command), i, nt, showCommand(ne.Command)),
				Want: "a leader's entries kept while it leads",
			}
		}
	}
	return nil
}

// LogMatching: if two logs hold an entry with the same index and term, the
// logs are identical in all entries up through that index (compared over
// what both still hold; an index at a snapshot base counts with BaseTerm).
//
// It is checked through its local form (the lemma of docs/proofs/log-matching.md, in Observer.logChanged): two
// logs that both hold (i, t) agree on the command at i and, when both
// still hold i-1, on the term at i-1.
// Figure 3; §5.3. docs/proofs/log-matching.md
func LogMatching(views []View) *Violation {
	for x := range views {
		for y := x + 1; y < len(views); y++ {
			if v := logMatchingPair(&views[x], &views[y]); v != nil {
				return v
			}
		}
	}
	return nil
}

// logMatchingPair checks LogMatching between a and b, over the indices
// both hold.
func logMatchingPair(a, b *View) *Violation {
	lo, hi := max(a.Base, b.Base), min(a.LastIndex(), b.LastIndex())
	for i := lo + 1; i <= hi; i++ {
		ea, eb := a.Log[i-a.Base-1], b.Log[i-b.Base-1]
		if ea.Term != eb.Term {
			continue
		}
		if !sameCommand(ea.Command, eb.Command) {
			return commandMismatch(b.ID, a.ID, i, ea.Term, eb.Command, ea.Command)
		}
		pa, _ := a.TermAt(i - 1)
		pb, _ := b.TermAt(i - 1)
		if pa != pb {
			return prevTermMismatch(b.ID, a.ID, i, ea.Term, pb, pa)
		}
	}
	return nil
}

// commandMismatch is the LogMatching violation where node holds (i, t)
// with command found, and other holds (i, t) with command want.
func commandMismatch(node, other, i, t int, found, want any) *Violation {
	return &Violation{
		Property: LogMatchingName, Nodes: []int{node, other}, Term: t, Index: i,
		Found: fmt.Sprintf("n%d has command %s at %d/%d", node, showCommand(found), i, t),
		Want:  fmt.Sprintf("command %s, as n%d has at %d/%d", showCommand(want), other, i, t),
	}
}

// prevTermMismatch is the LogMatching violation where node and other both
// hold (i, t) but have different terms (found, want) at i-1.
func prevTermMismatch(node, other, i, t, found, want int) *Violation {
	return &Violation{
		Property: LogMatchingName, Nodes: []int{node, other}, Term: t, Index: i,
		Found: fmt.Sprintf("n%d has term %d at %d, before %d/%d", node, found, i-1, i, t),
		Want:  fmt.Sprintf("term %d, as n%d has before %d/%d", want, other, i, t),
	}
}

// LeaderCompleteness: a leader holds every entry committed in a term before
// its own. Entries under the leader's Base count as held (its snapshot
// holds them); at the base index itself the term must be BaseTerm.
// Figure 3; §5.4. docs/proofs/leader-completeness.md
func LeaderCompleteness(leader *View, committed []Committed) *Violation {
	if leader == nil || leader.Role != Leader {
		return nil
	}
	for _, c := range committed {
		if c.InTerm >= leader.Term || c.Index < leader.Base {
			continue
		}
		if v := holdsCommitted(leader, c.Index, c.Entry, true); v != nil {
			return v
		}
	}
	return nil
}

// holdsCommitted checks that leader holds committed entry e at index i
// (only its term when i is the leader's base, or when hasCmd is false).
func holdsCommitted(leader *View, i int, e Entry, hasCmd bool) *Violation {
	t, ok := leader.TermAt(i)
	if !ok {
		return &Violation{
			Property: LeaderCompletenessName, Nodes: []int{leader.ID}, Term: leader.Term, Index: i,
			Found: fmt.Sprintf("leader's log ends at %d", leader.LastIndex()),
			Want:  "committed entry " + showEntry(i, e),
		}
	}
	le, isEntry := leader.EntryAt(i)
	if t != e.Term || (isEntry && hasCmd && !sameCommand(le.Command, e.Command)) {
		found := fmt.Sprintf("base %d/%d", i, t)
		if isEntry {
			found = showEntry(i, le)
		}
		return &Violation{
			Property: LeaderCompletenessName, Nodes: []int{leader.ID}, Term: leader.Term, Index: i,
			Found: found,
			Want:  "committed entry " + showEntry(i, e),
		}
	}
	return nil
}

// StateMachineSafety: no two nodes hold (and so apply) different entries at
// one index at or below both their commitIndexes.
// Figure 3; §5.4.3. docs/proofs/state-machine-safety.md
func StateMachineSafety(views []View) *Violation {
	for x := range views {
		for y := x + 1; y < len(views); y++ {
			if v := stateMachinePair(&views[x], &views[y]); v != nil {
				return v
			}
		}
	}
	return nil
}

// stateMachinePair checks StateMachineSafety between a and b.
func stateMachinePair(a, b *View) *Violation {
	lo := max(a.Base, b.Base)
	hi := min(a.CommitIndex, b.CommitIndex, a.LastIndex(), b.LastIndex())
	for i := lo; i <= hi; i++ {
		if i == 0 {
			continue
		}
		ta, _ := a.TermAt(i)
		tb, _ := b.TermAt(i)
		ea, aok := a.EntryAt(i)
		eb, bok := b.EntryAt(i)
		if ta != tb || (aok && bok && !sameCommand(ea.Command, eb.Command)) {
			return &Violation{
				Property: StateMachineSafetyName, Nodes: []int{b.ID, a.ID}, Index: i,
				Found: fmt.Sprintf("n%d committed %s", b.ID, showHeld(b, i)),
				Want:  fmt.Sprintf("%s, as n%d committed", showHeld(a, i), a.ID),
			}
		}
	}
	return nil
}

// showHeld formats what v holds at index i: an entry, or its base term.
func showHeld(v *View, i int) string {
	if e, ok := v.EntryAt(i); ok {
		return showEntry(i, e)
	}
	t, _ := v.TermAt(i)
	return fmt.Sprintf("snapshot through %d/%d", i, t)
}
