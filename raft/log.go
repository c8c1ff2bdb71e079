package raft

// raftLog is the log after compaction: a snapshot base and a suffix.
// Entries base+1 .. base+len(entries) are entries[0 ..]; entries at or
// below base live only in the snapshot, whose last entry had index base and
// term baseTerm. Index 0 is the empty prefix, with term 0.
//
// Every index computation goes through the methods below: nowhere else is
// there slice arithmetic on the log (a classic source of off-by-one bugs
// after compaction; raft-bugs.md M21).
//
// Invariant: base <= commitIndex (only committed state is compacted).
type raftLog struct {
	base     int
	baseTerm int
	entries  []Entry

	// changedFrom is the lowest index appended, overwritten or deleted
	// since the invariant hooks last looked; 0 means none. Compaction does
	// not change entries and does not set it.
	changedFrom int
	// unsavedFrom is the same since the last toPersist: the entries an
	// encoder must encode again (PersistentState.Unchanged).
	unsavedFrom int
}

// lastIndex is the index of the last entry (base if there is none).
func (l *raftLog) lastIndex() int { return l.base + len(l.entries) }

// lastTerm is the term of the last entry.
func (l *raftLog) lastTerm() int {
	t, _ := l.term(l.lastIndex())
	return t
}

// term returns the term at index i, and false when i is compacted away
// (i < base) or beyond the end of the log.
func (l *raftLog) term(i int) (int, bool) {
	switch {
	case i == l.base:
		return l.baseTerm, true
	case i < l.base || i > l.lastIndex():
		return 0, false
	}
	return l.entries[i-l.base-1].Term, true
}

// at returns the entry at index i; base < i <= lastIndex is required.
func (l *raftLog) at(i int) Entry { return l.entries[i-l.base-1] }

// from returns a copy of the entries from index i (base < i) to the end.
// It copies because messages outlive the lock, and the log's backing array
// may be overwritten by a later truncation.
func (l *raftLog) from(i int) []Entry {
	if i > l.lastIndex() {
		return nil
	}
	return append([]Entry(nil), l.entries[i-l.base-1:]...)
}

// afterBase takes the entries of an AppendEntries that follow index prev
// (of term prevTerm) and drops those at or below the base, which the
// snapshot covers. It returns the index and term the rest follow, and the
// rest: the request unchanged if prev >= base.
func (l *raftLog) afterBase(prev, prevTerm int, es []Entry) (int, int, []Entry) {
	if prev >= l.base {
		return prev, prevTerm, es
	}
	skip := min(l.base-prev, len(es))
	return l.base, l.baseTerm, es[skip:]
}

// append adds entries after the last one.
func (l *raftLog) append(es ...Entry) {
	if len(es) == 0 {
		return
	}
	l.markChanged(l.lastIndex() + 1)
	l.entries = append(l.entries, es...)
}

// truncate deletes the entries from index i (base < i) to the end.
func (l *raftLog) truncate(i int) {
	if i > l.lastIndex() {
		return
	}
	l.markChanged(i)
	l.entries = l.entries[:i-l.base-1]
}

// firstIndexOf returns the first index, above base, that holds an entry of
// term t, searching back from index i, which holds term t. It serves the
// fast backup (§5.3, "the follower can include the term of the conflicting
// entry and the first index it stores for that term").
func (l *raftLog) firstIndexOf(t, i int) int {
	for i-1 > l.base && l.at(i-1).Term == t {
		i--
	}
	return i
}

// lastIndexOf returns the last index holding an entry of term t, or 0 if
// the log (above base) holds none. Terms never decrease along a log, so the
// search stops at the first smaller term.
func (l *raftLog) lastIndexOf(t int) int {
	for i := l.lastIndex(); i > l.base; i-- {
		switch ti := l.at(i).Term; {
		case ti == t:
			return i
		case ti < t:
			return 0
		}
	}
	return 0
}

// compact discards the entries through index i (base < i <= lastIndex),
// which a snapshot now covers. The entries kept are copied to a fresh
// array, so the discarded ones can be collected.
func (l *raftLog) compact(i int) {
	t, _ := l.term(i)
	l.entries = append([]Entry(nil), l.entries[i-l.base:]...)
	l.base, l.baseTerm = i, t
}

// restoreBase makes the log start from a snapshot through index i
// (base < i) with term t. Entries after i are kept if the log holds an entry at i with term
// t (§7: "If existing log entry has same index and term as snapshot's last
// included entry, retain log entries following it"); otherwise the whole
// log is discarded.
func (l *raftLog) restoreBase(i, t int) {
	if lt, ok := l.term(i); ok && lt == t && i <= l.lastIndex() {
		l.compact(i)
		return
	}
	l.markChanged(l.base + 1)
	l.entries = nil
	l.base, l.baseTerm = i, t
}

func (l *raftLog) markChanged(i int) {
	if l.changedFrom == 0 || i < l.changedFrom {
		l.changedFrom = i
	}
	if l.unsavedFrom == 0 || i < l.unsavedFrom {
		l.unsavedFrom = i
	}
}
