package main

// Parsing for raftspec check: the -test.v output of the test binary, as it
// streams, cut into runs with their verdicts, figures and failures.

import (
	"regexp"
	"strconv"
	"strings"
)

// Patterns of the test binary's -test.v output.
var (
	runLine     = regexp.MustCompile(`^=== RUN\s+(\S+)$`)
	verdictLine = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([0-9.]+)s\)`)
	// A test's log line (t.Log, t.Errorf, t.Fatalf): indented, "file.go:N: ".
	logLine = regexp.MustCompile(`^(\s+)\S+\.go:\d+: `)
	// The scenario's summary line: "  ... Passed -- Name  time 3.0s  peers 3 ...";
	// LEAK: the checks passed but Kill left goroutines running.
	summaryLine = regexp.MustCompile(`^\s*\.\.\. (Passed|FAILED|LEAK) -- (\S+)\s+(.*)$`)
	// A frame of a goroutine trace: "pkg.Func(args)" then "\tfile.go:N +0x..".
	frameFile = regexp.MustCompile(`^\t(\S+:\d+)`)
)

// transcript follows the -test.v output of one test-binary process that
// runs one Go test, possibly -test.count times, and cuts it into runs.
type transcript struct {
	test    string           // "TestFigure83C"
	first   int              // the Run number of the first run of this process
	done    func(*runResult) // called as each run ends
	started int              // runs started
	cur     *runResult       // the run in progress: after "=== RUN", before "--- "
	last    *runResult       // the last run that ended
	pending *runResult       // last, until done has been called with it
	failed  bool             // a run of this process failed
	pre     []string         // output before the first run
	msg     int              // index in the run's Failures of the message being continued; -1: none
	indent  int              // the indentation of that message's first line

	panicking bool
	panicRun  *runResult // the run a panic is charged to
	panicMsg  int        // index of the panic's message in panicRun.Failures
	panicEnd  bool       // the panic's message has ended (a blank line)
	panicAt   bool       // the panic's location has been found
	lastFunc  string     // the last function line of the trace
}

func newTranscript(test string, first int, done func(*runResult)) *transcript {
	return &transcript{test: test, first: first, done: done, msg: -1}
}

// line takes one line of output, without its newline.
func (t *transcript) line(s string) {
	if t.panicking {
		if !t.ownLine(s) {
			t.panicLine(s)
			return
		}
		// Only a line printed as "panic: " at the start, not a panic:
		// the process goes on.
		t.panicking, t.panicEnd, t.panicAt, t.lastFunc = false, false, false, ""
	}
	if t.runStart(s) {
		if t.cur != nil { // a run that never ended: cannot happen with a sane binary
			t.end(verdictFail, 0, "the run printed no verdict")
		}
		t.flush()
		t.cur = &runResult{Run: t.first + t.started, lines: []string{s}}
		t.started++
		t.msg = -1
		return
	}
	if strings.HasPrefix(s, "panic: ") || strings.HasPrefix(s, "fatal error: ") {
		r := t.cur
		if r == nil {
			r = t.last // the testing package prints "--- FAIL" before repanicking
		}
		if r != nil {
			r.lines = append(r.lines, s)
			r.Failures = append(r.Failures, s)
			t.panicking, t.panicRun, t.panicMsg = true, r, len(r.Failures)-1
			return
		}
	}
	r := t.cur
	if r == nil {
		if t.last != nil {
			t.last.lines = append(t.last.lines, s)
		} else {
			t.pre = append(t.pre, s)
		}
		return
	}
	r.lines = append(r.lines, s)
	if verdict, wall, ok := t.verdictOf(s); ok {
		t.end(verdict, wall, "")
		return
	}
	if m := summaryLine.FindStringSubmatch(s); m != nil {
		r.Stats = parseStats(m[3])
		r.Stats.Line = strings.TrimSpace(s)
		t.msg = -1
		return
	}
	if m := logLine.FindStringSubmatch(s); m != nil {
		r.Failures = append(r.Failures, strings.TrimSpace(s))
		t.msg, t.indent = len(r.Failures)-1, len(m[1])
		return
	}
	if t.msg >= 0 && indentOf(s) > t.indent {
		// A continuation line of a multi-line message; the testing
		// package indents it 4 more than the message's first line.
		cut := min(indentOf(s), t.indent+4)
		r.Failures[t.msg] += "\n" + s[cut:]
		return
	}
	t.msg = -1
}

// panicLine takes a line after "panic: ": the message goes on to the first
// blank line; then the trace, where the first frame outside the runtime
// and the testing package says where the panic happened.
func (t *transcript) panicLine(s string) {
	t.panicRun.lines = append(t.panicRun.lines, s)
	if !t.panicEnd {
		if s == "" {
			t.panicEnd = true
		} else {
			t.panicRun.Failures[t.panicMsg] += "\n" + s
		}
		return
	}
	if t.panicAt {
		return
	}
	if m := frameFile.FindStringSubmatch(s); m != nil {
		if fn := t.lastFunc; fn != "" && !strings.HasPrefix(fn, "runtime.") && !strings.HasPrefix(fn, "testing.") &&
			!strings.HasPrefix(fn, "panic(") && !strings.HasPrefix(fn, "created by ") {
			t.panicRun.Failures[t.panicMsg] += "\n\tat " + fn + " (" + m[1] + ")"
			t.panicAt = true
		}
		return
	}
	t.lastFunc = s
}

// runStart reports whether s is the "=== RUN" line of the test.
func (t *transcript) runStart(s string) bool {
	m := runLine.FindStringSubmatch(s)
	return m != nil && m[1] == t.test
}

// verdictOf returns the verdict and wall time of s if it is the test's
// "--- PASS/FAIL/SKIP" line.
func (t *transcript) verdictOf(s string) (verdict string, wall float64, ok bool) {
	m := verdictLine.FindStringSubmatch(s)
	if m == nil || m[2] != t.test {
		return "", 0, false
	}
	wall, _ = strconv.ParseFloat(m[3], 64)
	return m[1], wall, true
}

// ownLine reports whether s is a "=== RUN" or "--- " line of the test.
func (t *transcript) ownLine(s string) bool {
	_, _, ok := t.verdictOf(s)
	return ok || t.runStart(s)
}

func indentOf(s string) int { return len(s) - len(strings.TrimLeft(s, " \t")) }

// end ends the run in progress with a verdict. The run is handed to done
// only when the next run starts or the process has exited: the testing
// package prints "--- FAIL" before it repanics, and the panic belongs to
// the run.
func (t *transcript) end(verdict string, wall float64, why string) {
	r := t.cur
	r.Verdict, r.Wall = verdict, wall
	if why != "" {
		r.Failures = append(r.Failures, why)
	}
	if verdict == verdictFail {
		t.failed = true
	} else {
		// A passing run's log lines are no failures (a t.Logf warning is
		// not one), and its output is dropped to save memory over -count.
		r.Failures, r.lines = nil, nil
	}
	t.cur, t.last, t.pending, t.msg = nil, r, r, -1
}

func (t *transcript) flush() {
	if t.pending != nil {
		t.done(t.pending)
		t.pending = nil
	}
}

// finish ends the transcript when the process has exited with err (nil:
// status 0). A run still in progress died with the process (a panic, a
// timeout, a kill): it failed, and is returned so the caller can tell.
func (t *transcript) finish(err error) (crashed *runResult) {
	defer t.flush()
	exit := "exited"
	if err != nil {
		exit = "exited: " + err.Error()
	}
	if t.cur != nil {
		r := t.cur
		if t.panicking && t.panicRun == r {
			t.end(verdictFail, 0, "(the test binary "+exit+")")
		} else {
			t.end(verdictFail, 0, "the test binary "+exit+" before the run ended")
		}
		return r
	}
	if err != nil && t.pending != nil && !t.failed {
		// Every run passed, yet the process failed after the last one (at
		// exit, or a panic in a goroutine a test left behind).
		r := t.pending
		r.Verdict = verdictFail
		r.Failures = append([]string{"the test binary " + exit + " after the run passed"}, tail(r.lines, 10)...)
	}
	return nil
}

// abandon ends the transcript of a process killed on purpose: the runs
// that ended stand, the run in progress is dropped.
func (t *transcript) abandon() {
	t.cur = nil
	t.flush()
}

func tail(lines []string, n int) []string {
	if len(lines) > n {
		return lines[len(lines)-n:]
	}
	return lines
}

// parseStats reads the figures after the name in a summary line: pairs of
// a key and a value ("time 3.0s  peers 3  rpcs 56 ..."). Keys it does not
// know are ignored, so the harness can add figures without breaking check.
func parseStats(s string) *runStats {
	st := &runStats{}
	ints := map[string]*int64{
		"peers": &st.Peers, "rpcs": &st.RPCs, "bytes": &st.Bytes,
		"cmds": &st.Cmds, "goroutines": &st.Goroutines, "evals": &st.Evals,
	}
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i += 2 {
		k, v := f[i], f[i+1]
		if k == "ops" {
			k = "cmds" // a KV scenario's client operations: its commands
		}
		if k == "time" {
			st.Virtual, _ = strconv.ParseFloat(strings.TrimSuffix(v, "s"), 64)
		} else if p, ok := ints[k]; ok {
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				*p = n
			}
		}
	}
	return st
}
