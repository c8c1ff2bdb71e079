// Package bugzoo holds the bug zoo: realistic Raft and KV bugs, each a
// small unified diff against the module (NN-name.patch) with a header
// that tells its story and names what must catch it. The mutation test
// (bugzoo_test.go) applies each patch to a copy of the files it touches,
// builds the catcher's tests against the copy with `go test -overlay`,
// runs them once and requires them to fail as the header says.
//
// This file is the strict unified-diff applier the test uses, so the zoo
// needs no `patch` program: every context and removed line must match
// the file exactly, or the patch fails, naming the hunk.
package bugzoo

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Mutant is one patch of the zoo: its header and its diff.
type Mutant struct {
	File   string            // the patch's file name: "03-truncate-on-match.patch"
	Fields map[string]string // the header: "Story", "Catcher", "Run", ...
	Files  []FileDiff
}

// FileDiff is the part of a patch that edits one file.
type FileDiff struct {
	Path  string // relative to the module root: "raft/replication.go"
	Hunks []Hunk
}

// Hunk is one @@ section.
type Hunk struct {
	Header   string // "@@ -120,7 +120,9 @@"
	OldStart int    // 1-based line of the first old line
	Old, New []string
}

var (
	fieldLine = regexp.MustCompile(`^([A-Z][A-Za-z]*): ?(.*)$`)
	hunkLine  = regexp.MustCompile(`^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@`)
)

// Parse reads a patch: header fields ("Key: value", continued on the
// following lines that start no new field), then `--- a/path`,
// `+++ b/path` and hunks, for one or more files. Git's "diff --git" and
// "index" lines are allowed and ignored.
func Parse(name, text string) (*Mutant, error) {
	m := &Mutant{File: name, Fields: map[string]string{}}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	i := 0
	key := ""
	for ; i < len(lines) && !strings.HasPrefix(lines[i], "diff --git ") && !strings.HasPrefix(lines[i], "--- "); i++ {
		l := lines[i]
		if f := fieldLine.FindStringSubmatch(l); f != nil {
			key = f[1]
			m.Fields[key] = f[2]
			continue
		}
		if key != "" && strings.TrimSpace(l) != "" {
			m.Fields[key] = strings.TrimSpace(m.Fields[key] + " " + strings.TrimSpace(l))
		}
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, i+1, fmt.Sprintf(format, args...))
	}
	for i < len(lines) {
		l := lines[i]
		switch {
		case strings.HasPrefix(l, "diff --git "), strings.HasPrefix(l, "index "):
			i++
		case strings.HasPrefix(l, "--- "):
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], "+++ ") {
				return nil, bad("--- without +++")
			}
			from := strings.TrimPrefix(strings.TrimPrefix(l, "--- "), "a/")
			to := strings.TrimPrefix(strings.TrimPrefix(lines[i+1], "+++ "), "b/")
			if from != to {
				return nil, bad("renames are not supported: %s -> %s", from, to)
			}
			m.Files = append(m.Files, FileDiff{Path: from})
			i += 2
		case strings.HasPrefix(l, "@@ "):
			if len(m.Files) == 0 {
				return nil, bad("hunk before any file")
			}
			h, next, err := parseHunk(lines, i)
			if err != nil {
				return nil, bad("%v", err)
			}
			fd := &m.Files[len(m.Files)-1]
			fd.Hunks = append(fd.Hunks, h)
			i = next
		default:
			return nil, bad("unexpected line %q", l)
		}
	}
	if len(m.Files) == 0 {
		return nil, fmt.Errorf("%s: no diff", name)
	}
	return m, nil
}

// parseHunk reads the hunk whose header is lines[i] and returns it and
// the index of the line after it. The counts of the header must agree
// with the lines that follow.
func parseHunk(lines []string, i int) (Hunk, int, error) {
	g := hunkLine.FindStringSubmatch(lines[i])
	if g == nil {
		return Hunk{}, 0, fmt.Errorf("bad hunk header %q", lines[i])
	}
	count := func(s string) int {
		if s == "" {
			return 1
		}
		n, _ := strconv.Atoi(s)
		return n
	}
	start, _ := strconv.Atoi(g[1])
	h := Hunk{Header: lines[i], OldStart: start}
	oldN, newN := count(g[2]), count(g[4])
	i++
	for ; i < len(lines) && (len(h.Old) < oldN || len(h.New) < newN); i++ {
		l := lines[i]
		if l == "" { // an empty context line whose space was trimmed
			l = " "
		}
		switch l[0] {
		case ' ':
			h.Old, h.New = append(h.Old, l[1:]), append(h.New, l[1:])
		case '-':
			h.Old = append(h.Old, l[1:])
		case '+':
			h.New = append(h.New, l[1:])
		case '\\':
			return h, 0, fmt.Errorf("%s: files without a final newline are not supported", h.Header)
		default:
			return h, 0, fmt.Errorf("%s: unexpected line %q", h.Header, lines[i])
		}
	}
	if len(h.Old) != oldN || len(h.New) != newN {
		return h, 0, fmt.Errorf("%s: %d old and %d new lines, the header says %d and %d", h.Header, len(h.Old), len(h.New), oldN, newN)
	}
	return h, i, nil
}

// Apply returns src with the hunks of fd applied. Each hunk's old lines
// (context and removed) must occur in src exactly: at the line the header
// names, or else at exactly one other place (the file moved around the
// hunk). Otherwise the error names the hunk.
func (fd FileDiff) Apply(src string) (string, error) {
	if !strings.HasSuffix(src, "\n") {
		return "", fmt.Errorf("%s: no final newline", fd.Path)
	}
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	delta := 0 // lines added by the hunks applied so far
	for k, h := range fd.Hunks {
		want := h.OldStart - 1 + delta
		if len(h.Old) == 0 {
			want++ // "-n,0": insert after line n
		}
		at := -1
		if matchAt(lines, h.Old, want) {
			at = want
		} else {
			var found []int
			for j := 0; j+len(h.Old) <= len(lines); j++ {
				if matchAt(lines, h.Old, j) {
					found = append(found, j)
				}
			}
			switch len(found) {
			case 1:
				at = found[0]
			case 0:
				return "", fmt.Errorf("%s: hunk %d (%s) does not apply: its context and removed lines are not in the file", fd.Path, k+1, h.Header)
			default:
				return "", fmt.Errorf("%s: hunk %d (%s) does not apply: its lines occur %d times, none at line %d", fd.Path, k+1, h.Header, len(found), h.OldStart)
			}
		}
		out := append(append(append([]string{}, lines[:at]...), h.New...), lines[at+len(h.Old):]...)
		delta += len(h.New) - len(h.Old)
		lines = out
	}
	return strings.Join(lines, "\n") + "\n", nil
}

func matchAt(lines, old []string, at int) bool {
	if at < 0 || at+len(old) > len(lines) {
		return false
	}
	for k, l := range old {
		if lines[at+k] != l {
			return false
		}
	}
	return true
}
