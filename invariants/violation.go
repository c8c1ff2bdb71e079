package invariants

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// Error reads like a failed test's message: the property, where (nodes,
// term, index), what was found and what was required, then the last
// transitions of the nodes involved, one per line, oldest first:
//
//	LogMatching violated at n2,n1 term 3 index 5: found ..., want ...
//		n1 AppendEntries from n3 term 3 prev 4/2 → ok
//		n2 ...
func (v *Violation) Error() string {
	var b strings.Builder
	b.WriteString(v.Property)
	b.WriteString(" violated")
	if len(v.Nodes) > 0 {
		b.WriteString(" at ")
		for i, n := range v.Nodes {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteByte('n')
			b.WriteString(strconv.Itoa(n))
		}
	}
	if v.Term != 0 {
		b.WriteString(" term ")
		b.WriteString(strconv.Itoa(v.Term))
	}
	if v.Index != 0 {
		b.WriteString(" index ")
		b.WriteString(strconv.Itoa(v.Index))
	}
	b.WriteString(": found ")
	b.WriteString(v.Found)
	b.WriteString(", want ")
	b.WriteString(v.Want)
	for _, line := range v.Trace {
		b.WriteString("\n\t")
		b.WriteString(line)
	}
	return b.String()
}

// sameCommand reports whether two commands are equal: with == when the
// values are comparable, else with reflect.DeepEqual, so a []byte or a map
// command never makes a check panic. The common types take a fast path
// without reflection.
func sameCommand(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case int:
		y, ok := b.(int)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case int64:
		y, ok := b.(int64)
		return ok && x == y
	}
	if reflect.TypeOf(a) != reflect.TypeOf(b) {
		return false
	}
	// Value.Comparable looks inside interfaces and struct fields, so when
	// it says yes, == cannot panic.
	if reflect.ValueOf(a).Comparable() {
		return a == b
	}
	return reflect.DeepEqual(a, b)
}

// sameEntry reports whether two entries have the same term and command.
func sameEntry(a, b Entry) bool { return a.Term == b.Term && sameCommand(a.Command, b.Command) }

// maxCommandText bounds how much of a command a message shows.
const maxCommandText = 60

// showCommand formats a command for a message (only on a violation).
func showCommand(c any) string {
	s := fmt.Sprintf("%v", c)
	if len(s) > maxCommandText {
		s = s[:maxCommandText] + "…"
	}
	return s
}

// showEntry formats the entry at index i as "5/3 command x" (index/term, as
// the transcripts write it).
func showEntry(i int, e Entry) string {
	return fmt.Sprintf("%d/%d command %s", i, e.Term, showCommand(e.Command))
}
