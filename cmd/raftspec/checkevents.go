package main

// Reading for raftspec check: the test binary runs with -test.v=test2json,
// its output goes through go tool test2json, and check decodes the JSON
// events as they stream (go doc cmd/test2json). The verdict and wall time
// of a run are its "pass", "fail" or "skip" event; its figures are the
// scenario's tests.Stats, the JSON value of its "attr" event with key
// tests.StatsAttr. Only the failure message is read from the run's output
// text, because test2json has no event for it: the lines a test logged
// (t.Errorf, t.Fatalf) and a panic's message with where it happened.

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/raftspec/raftspec/tests"
)

// testEvent is one event of go tool test2json; the fields check uses.
type testEvent struct {
	Action  string // start, run, output, attr, pass, fail, skip, ...
	Test    string
	Elapsed float64
	Output  string
	Key     string // attr
	Value   string // attr
}

// runReader follows the events of one test-binary process that runs one
// Go test, possibly -test.count times, and cuts them into runs.
type runReader struct {
	test    string           // "TestFigure83C"
	first   int              // the Run number of the first run of this process
	done    func(*runResult) // called as each run ends
	started int              // runs started
	cur     *runResult       // the run in progress: after "run", before its verdict
	last    *runResult       // the last run that ended
	pending *runResult       // last, until done has been called with it
	failed  bool             // a run of this process failed
	pre     []string         // output before the first run
	fail    failureScanner   // the failure messages of the run that gets the output
}

func newRunReader(test string, first int, done func(*runResult)) *runReader {
	return &runReader{test: test, first: first, done: done}
}

// line takes one line of test2json's output: one JSON event. A line that
// is not one (a truncated stream) is kept as output, and spoils the
// figures of the run it falls in.
func (rr *runReader) line(s string) {
	var e testEvent
	if err := json.Unmarshal([]byte(s), &e); err != nil || e.Action == "" {
		if err == nil {
			err = fmt.Errorf("no Action")
		}
		if r := rr.cur; r != nil && r.StatsErr == "" {
			r.StatsErr = fmt.Sprintf("an event of the test2json stream is unreadable (%v): %s", err, shorten(s, 80))
		}
		rr.output(s + "\n")
		return
	}
	rr.event(e)
}

// event takes one decoded event.
func (rr *runReader) event(e testEvent) {
	if e.Test != "" && e.Test != rr.test {
		return // another test (none runs: -test.run selects one)
	}
	switch e.Action {
	case "run":
		if e.Test == "" {
			return
		}
		if rr.cur != nil { // a run that never ended: cannot happen with a sane binary
			rr.end(verdictFail, 0, "the run had no verdict")
		}
		rr.flush()
		rr.cur = &runResult{Run: rr.first + rr.started}
		rr.started++
		rr.fail = failureScanner{}
	case "output":
		rr.output(e.Output)
	case "attr":
		if e.Test != "" && e.Key == tests.StatsAttr && rr.cur != nil {
			rr.cur.Stats, rr.cur.StatsErr = decodeStats(e.Value)
		}
	case "pass", "fail", "skip":
		if e.Test == "" || rr.cur == nil {
			return // the package's verdict; or a verdict without a run
		}
		rr.end(map[string]string{"pass": verdictPass, "fail": verdictFail, "skip": verdictSkip}[e.Action], e.Elapsed, "")
	}
}

// decodeStats reads the value of a stats attribute.
func decodeStats(v string) (*tests.Stats, string) {
	var st tests.Stats
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return nil, fmt.Sprintf("the scenario's %s attribute is unreadable (%v): %s", tests.StatsAttr, err, shorten(v, 80))
	}
	if st.Version < 1 {
		return nil, fmt.Sprintf("the scenario's %s attribute has no version: %s", tests.StatsAttr, shorten(v, 80))
	}
	return &st, ""
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// output takes a piece of output text, in general one line. It goes to
// the run in progress, else to the last run that ended (the testing
// package prints "--- FAIL" before it repanics, and the panic belongs to
// the run), else before the first run.
func (rr *runReader) output(text string) {
	r := rr.cur
	if r == nil {
		r = rr.last
	}
	if r == nil {
		rr.pre = append(rr.pre, strings.TrimRight(text, "\r\n"))
		return
	}
	r.output = append(r.output, text)
	rr.fail.line(r, strings.TrimRight(text, "\r\n"))
}

// end ends the run in progress with a verdict. The run is handed to done
// only when the next run starts or the process has exited, so that a
// panic after the verdict still lands in it.
func (rr *runReader) end(verdict string, wall float64, why string) {
	r := rr.cur
	r.Verdict, r.Wall = verdict, wall
	if why != "" {
		r.Failures = append(r.Failures, why)
	}
	if verdict == verdictPass && r.Stats == nil && r.StatsErr == "" {
		r.StatsErr = "the scenario passed but emitted no " + tests.StatsAttr + " attribute (a harness that does not report its figures)"
	}
	switch {
	case verdict == verdictFail:
		rr.failed = true
	case r.errored():
		r.Failures = nil // its log is kept
		rr.fail = failureScanner{}
	default:
		// A passing run's log lines are no failures (a t.Logf warning is
		// not one), and its output is dropped to save memory over -count.
		r.Failures, r.output = nil, nil
		rr.fail = failureScanner{}
	}
	rr.cur, rr.last, rr.pending = nil, r, r
}

func (rr *runReader) flush() {
	if rr.pending != nil {
		rr.done(rr.pending)
		rr.pending = nil
	}
}

// finish ends the reading when the process has exited with err (nil:
// status 0). A run still in progress died with the process (a panic, a
// timeout, a kill): it failed, and is returned so the caller can tell.
func (rr *runReader) finish(err error) (crashed *runResult) {
	defer rr.flush()
	exit := "exited"
	if err != nil {
		exit = "exited: " + err.Error()
	}
	if r := rr.cur; r != nil {
		why := "the test binary " + exit + " before the run ended"
		if rr.fail.panicking {
			why = "(the test binary " + exit + ")"
		}
		r.StatsErr = "" // a crash is the failure; no figures is no surprise
		rr.end(verdictFail, 0, why)
		return r
	}
	if err != nil && rr.pending != nil && !rr.failed {
		// Every run passed, yet the process failed after the last one (at
		// exit, or a panic in a goroutine a test left behind).
		r := rr.pending
		r.Verdict = verdictFail
		r.Failures = append([]string{"the test binary " + exit + " after the run passed"}, tail(r.lines(), 10)...)
	}
	return nil
}

// abandon ends the reading of a process killed on purpose: the runs that
// ended stand, the run in progress is dropped.
func (rr *runReader) abandon() {
	rr.cur = nil
	rr.flush()
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// failureScanner picks a run's failure messages out of its output lines:
// a test's log line ("    file.go:N: message") with its continuation
// lines, and a panic's message ("panic: ", "fatal error: ") up to the
// first blank line, with the first frame of its trace outside the runtime
// and the testing package.
type failureScanner struct {
	msg       int // index in the run's Failures of the message being continued; 0: none, else index+1
	indent    int // the indentation of that message's first line
	panicking bool
	panicMsg  int  // index of the panic's message in Failures
	panicEnd  bool // the panic's message has ended (a blank line)
	panicAt   bool // the panic's location has been found
	lastFunc  string
}

func (fs *failureScanner) line(r *runResult, s string) {
	if fs.panicking {
		fs.panicLine(r, s)
		return
	}
	if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
		r.Failures = append(r.Failures, s)
		fs.panicking, fs.panicMsg, fs.msg = true, len(r.Failures)-1, 0
		return
	}
	if ind, ok := logLine(s); ok {
		r.Failures = append(r.Failures, strings.TrimSpace(s))
		fs.msg, fs.indent = len(r.Failures), ind
		return
	}
	if fs.msg > 0 && indentOf(s) > fs.indent {
		// A continuation line of a multi-line message; the testing
		// package indents it 4 more than the message's first line.
		cut := min(indentOf(s), fs.indent+4)
		r.Failures[fs.msg-1] += "\n" + s[cut:]
		return
	}
	fs.msg = 0
}

func (fs *failureScanner) panicLine(r *runResult, s string) {
	if fs.panicMsg >= len(r.Failures) { // cannot happen: the scanner is reset with the run's Failures
		fs.panicking = false
		return
	}
	if !fs.panicEnd {
		if s == "" {
			fs.panicEnd = true
		} else {
			r.Failures[fs.panicMsg] += "\n" + s
		}
		return
	}
	if fs.panicAt {
		return
	}
	if loc, ok := frameFile(s); ok {
		if fn := fs.lastFunc; fn != "" && !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "testing.") &&
			!strings.HasPrefix(fn, "panic(") && !strings.HasPrefix(fn, "created by ") {
			r.Failures[fs.panicMsg] += "\n\tat " + fn + " (" + loc + ")"
			fs.panicAt = true
		}
		return
	}
	fs.lastFunc = s
}

// logLine reports whether s is a test's log line (t.Log, t.Errorf):
// indented, then "file.go:N: ".
func logLine(s string) (indent int, ok bool) {
	indent = indentOf(s)
	loc, _, found := strings.Cut(s[indent:], ": ")
	if indent == 0 || !found || strings.ContainsAny(loc, " \t") {
		return 0, false
	}
	file, line, found := strings.Cut(loc, ".go:")
	return indent, found && file != "" && isDigits(line)
}

// frameFile returns the "file:N" of a goroutine trace's location line
// ("\t/path/file.go:N +0x1f").
func frameFile(s string) (string, bool) {
	loc, ok := strings.CutPrefix(s, "\t")
	if !ok {
		return "", false
	}
	loc, _, _ = strings.Cut(loc, " ")
	i := strings.LastIndex(loc, ":")
	return loc, i > 0 && isDigits(loc[i+1:])
}

func isDigits(s string) bool {
	return s != "" && strings.Trim(s, "0123456789") == ""
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }
