package main

// raftspec check: the lab-style scenario suite against the reference.
//
// A scenario needs a *testing.T and runs inside testing/synctest, so check
// does not call the suite in-process. It builds the tests package's test
// binary once (go test -c), then runs that binary once per scenario with
// -test.run '^TestX$' -test.v, and reads its output as it streams: the
// "--- PASS/FAIL" lines give the verdict and wall time, the scenario's
// summary line ("  ... Passed -- X  time 3.0s  peers 3 ...") gives the
// figures, and the test's log lines (t.Errorf, t.Fatalf) and any panic
// give the failure. One process per scenario keeps a crash (a panic, a
// timeout) to the scenario that caused it: the rest still run.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/raftspec/raftspec/tests"
)

func init() {
	commands["check"] = command{
		summary: "run the scenario suite against the reference, print a table",
		run:     runCheck,
	}
}

const modulePath = "github.com/raftspec/raftspec"

// Verdicts of a run and of a scenario.
const (
	verdictPass = "PASS"
	verdictFail = "FAIL"
	verdictSkip = "SKIP"
)

// checkConfig is what the flags of check ask for.
type checkConfig struct {
	run        *regexp.Regexp // nil: every scenario
	count      int
	race       bool
	invariants bool
	wallclock  bool
	jsonOut    bool
	verbose    bool
	timeout    time.Duration // per run of a scenario; 0: none
}

func (cfg checkConfig) buildFlags() []string {
	var f []string
	if cfg.race {
		f = append(f, "-race")
	}
	if cfg.invariants {
		f = append(f, "-tags", "invariants")
	}
	return f
}

// parseCheckFlags parses the arguments of check. When ok is false the
// command must exit with code (0 for -h, 2 for bad usage); the message has
// been written to stderr.
func parseCheckFlags(args []string, stderr io.Writer) (cfg checkConfig, code int, ok bool) {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	runText := fs.String("run", "", "run only the scenarios whose name (\"Figure83C\") matches `regexp`")
	fs.IntVar(&cfg.count, "count", 1, "run each selected scenario `n` times, to hunt rare failures")
	fs.BoolVar(&cfg.race, "race", false, "build with the race detector (an order of magnitude slower)")
	fs.BoolVar(&cfg.invariants, "invariants", true, "build with -tags invariants: assert the properties after every state transition (-invariants=false: without)")
	fs.BoolVar(&cfg.wallclock, "wallclock", false, "run on the wall clock instead of virtual time (sets RAFTSPEC_WALLCLOCK=1)")
	fs.BoolVar(&cfg.jsonOut, "json", false, "print the results as JSON on stdout instead of the table")
	fs.BoolVar(&cfg.verbose, "v", false, "pass the test binary's raw output through to stderr")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "fail a run of a scenario that takes longer than `d` of wall time (0: no limit)")
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintln(w, "usage: raftspec check [flags]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Builds the tests package's test binary and runs the lab-style scenario suite")
		fmt.Fprintln(w, "against the reference Raft, one scenario at a time. Progress goes to stderr;")
		fmt.Fprintln(w, "the table (or -json) goes to stdout. Run it inside the raftspec checkout.")
		fmt.Fprintln(w, "Exit status: 0 every scenario passed, 1 a scenario failed (or the suite did")
		fmt.Fprintln(w, "not build), 2 bad usage.")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "flags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, 0, false
		}
		return cfg, 2, false // the flag package has printed the error and the usage
	}
	bad := func(format string, a ...any) (checkConfig, int, bool) {
		fmt.Fprintf(stderr, "raftspec check: "+format+"\n", a...)
		fmt.Fprintln(stderr, "run 'raftspec check -h' for usage")
		return cfg, 2, false
	}
	if fs.NArg() > 0 {
		return bad("unexpected argument %q (select scenarios with -run)", fs.Arg(0))
	}
	if cfg.count < 1 {
		return bad("-count %d: must be at least 1", cfg.count)
	}
	if cfg.timeout < 0 {
		return bad("-timeout %v: must not be negative", cfg.timeout)
	}
	if *runText != "" {
		re, err := regexp.Compile(*runText)
		if err != nil {
			return bad("-run %q: %v", *runText, err)
		}
		cfg.run = re
	}
	return cfg, 0, true
}

// checkScenario is a scenario as check sees it: its name and the Go test
// that runs it against the reference (tests/reference_test.go).
type checkScenario struct {
	Name string // "Figure83C"
	Part string // "3C"
}

func (s checkScenario) test() string { return "Test" + s.Name }

// selectScenarios returns the suite's scenarios that re selects (all when
// re is nil), in the suite's order. A name matches with or without its
// "Test" prefix, so a -run copied from go test works too.
func selectScenarios(all []tests.Scenario, re *regexp.Regexp) []checkScenario {
	var sel []checkScenario
	for _, s := range all {
		name := s.FullName()
		if re == nil || re.MatchString(name) || re.MatchString("Test"+name) {
			sel = append(sel, checkScenario{Name: name, Part: s.Part})
		}
	}
	return sel
}

// runStats are the figures of a scenario's summary line.
type runStats struct {
	Virtual    float64 `json:"virtual_seconds"`
	Peers      int64   `json:"peers"`
	RPCs       int64   `json:"rpcs"`
	Bytes      int64   `json:"bytes"`
	Cmds       int64   `json:"cmds"`
	Goroutines int64   `json:"goroutines"`
	Evals      int64   `json:"evals"`
	Line       string  `json:"line"` // the summary line as printed
}

// runResult is one run of one scenario.
type runResult struct {
	Run      int       `json:"run"` // 1-based, among the runs of its scenario
	Verdict  string    `json:"verdict"`
	Wall     float64   `json:"wall_seconds"`
	Stats    *runStats `json:"stats,omitempty"` // nil if no summary line was printed (a panic)
	Failures []string  `json:"failures,omitempty"`
	Log      string    `json:"log,omitempty"` // file holding the run's whole output, when it failed

	lines []string // the run's output, for Log
}

func (r *runResult) failed() bool { return r.Verdict == verdictFail }

// scenarioResult is every run of one scenario.
type scenarioResult struct {
	Name        string       `json:"name"`
	Part        string       `json:"part"`
	Verdict     string       `json:"verdict"`
	Runs        int          `json:"runs"`
	FailedRuns  int          `json:"failed_runs"`
	Problem     string       `json:"problem,omitempty"` // why the scenario could not run at all
	Results     []*runResult `json:"results"`
	interrupted bool
}

func (sr *scenarioResult) settle() {
	sr.Runs, sr.FailedRuns = len(sr.Results), 0
	skipped := 0
	for _, r := range sr.Results {
		switch r.Verdict {
		case verdictFail:
			sr.FailedRuns++
		case verdictSkip:
			skipped++
		}
	}
	switch {
	case sr.Problem != "" || sr.FailedRuns > 0:
		sr.Verdict = verdictFail
	case skipped > 0 && skipped == len(sr.Results):
		sr.Verdict = verdictSkip
	default:
		sr.Verdict = verdictPass
	}
}

// firstFailure is the first failed run, or nil.
func (sr *scenarioResult) firstFailure() *runResult {
	for _, r := range sr.Results {
		if r.failed() {
			return r
		}
	}
	return nil
}

// statMedian is the lower median (an observed value) of a figure over the
// runs that printed a summary line, and false if none did.
func (sr *scenarioResult) statMedian(f func(*runStats) float64) (float64, bool) {
	var xs []float64
	for _, r := range sr.Results {
		if r.Stats != nil {
			xs = append(xs, f(r.Stats))
		}
	}
	return lowerMedian(xs)
}

// wallMedian is the lower median of the runs' wall times.
func (sr *scenarioResult) wallMedian() (float64, bool) {
	var xs []float64
	for _, r := range sr.Results {
		xs = append(xs, r.Wall)
	}
	return lowerMedian(xs)
}

func lowerMedian(xs []float64) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	sort.Float64s(xs)
	return xs[(len(xs)-1)/2], true
}

func virtualOf(s *runStats) float64 { return s.Virtual }

// Patterns of the test binary's -test.v output.
var (
	runLine     = regexp.MustCompile(`^=== RUN\s+(\S+)$`)
	verdictLine = regexp.MustCompile(`^--- (PASS|FAIL|SKIP): (\S+) \(([0-9.]+)s\)`)
	// A test's log line (t.Log, t.Errorf, t.Fatalf): indented, "file.go:N: ".
	logLine = regexp.MustCompile(`^(\s+)\S+\.go:\d+: `)
	// The scenario's summary line: "  ... Passed -- Name  time 3.0s  peers 3 ...".
	summaryLine = regexp.MustCompile(`^\s*\.\.\. (Passed|FAILED) -- (\S+)\s+(.*)$`)
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
	if m := runLine.FindStringSubmatch(s); m != nil && m[1] == t.test {
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
	if m := verdictLine.FindStringSubmatch(s); m != nil && m[2] == t.test {
		wall, _ := strconv.ParseFloat(m[3], 64)
		t.end(m[1], wall, "")
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

// ownLine reports whether s is a "=== RUN" or "--- " line of the test.
func (t *transcript) ownLine(s string) bool {
	if m := runLine.FindStringSubmatch(s); m != nil && m[1] == t.test {
		return true
	}
	m := verdictLine.FindStringSubmatch(s)
	return m != nil && m[2] == t.test
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
	f := strings.Fields(s)
	for i := 0; i+1 < len(f); i += 2 {
		k, v := f[i], f[i+1]
		if k == "time" {
			st.Virtual, _ = strconv.ParseFloat(strings.TrimSuffix(v, "s"), 64)
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "peers":
			st.Peers = n
		case "rpcs":
			st.RPCs = n
		case "bytes":
			st.Bytes = n
		case "cmds":
			st.Cmds = n
		case "goroutines":
			st.Goroutines = n
		case "evals":
			st.Evals = n
		}
	}
	return st
}

// execFunc runs the Go test named test count times in one process,
// passing each line of its output to line, and returns when the process
// has exited, with its exit error.
type execFunc func(ctx context.Context, test string, count int, line func(string)) error

// checker runs the selected scenarios and keeps their results.
type checker struct {
	cfg      checkConfig
	exec     execFunc
	progress io.Writer       // stderr
	logBase  string          // where the directory of failure logs is made; "": os.TempDir()
	logDir   string          // made at the first failure
	tests    map[string]bool // the Go tests the binary has; nil: not known
	nameW    int             // the width of the names in progress lines
}

// runAll runs every scenario in turn and returns the results, the last
// one possibly cut short by an interrupt (ctx done).
func (c *checker) runAll(ctx context.Context, scenarios []checkScenario) []*scenarioResult {
	var results []*scenarioResult
	for _, s := range scenarios {
		c.nameW = max(c.nameW, len(s.Name))
	}
	for i, s := range scenarios {
		if ctx.Err() != nil {
			break
		}
		sr := c.runScenario(ctx, s)
		if sr.interrupted {
			if len(sr.Results) > 0 { // the runs that ended stand
				results = append(results, sr)
			}
			break
		}
		results = append(results, sr)
		c.reportScenario(i+1, len(scenarios), sr)
	}
	return results
}

// runScenario runs one scenario cfg.count times. A process that dies in a
// run loses only that run: the rest go on in a new process.
func (c *checker) runScenario(ctx context.Context, s checkScenario) *scenarioResult {
	sr := &scenarioResult{Name: s.Name, Part: s.Part}
	defer sr.settle()
	if c.tests != nil && !c.tests[s.test()] {
		sr.Problem = fmt.Sprintf("the test binary has no Go test %s: add func %s(t *testing.T) to tests/reference_test.go", s.test(), s.test())
		return sr
	}
	for len(sr.Results) < c.cfg.count {
		tr := newTranscript(s.test(), len(sr.Results)+1, func(r *runResult) {
			sr.Results = append(sr.Results, r)
			if r.failed() {
				c.saveLog(s, r)
				if c.cfg.count > 1 {
					fmt.Fprintf(c.progress, "    run %d/%d FAIL: %s\n", r.Run, c.cfg.count, firstLine(r.Failures))
				}
			}
		})
		err := c.exec(ctx, s.test(), c.cfg.count-len(sr.Results), tr.line)
		if ctx.Err() != nil {
			// Interrupted: the process was killed, and the run in
			// progress with it; it did not fail.
			tr.abandon()
			sr.interrupted = len(sr.Results) < c.cfg.count
			return sr
		}
		tr.finish(err)
		if tr.started == 0 {
			msg := "the test binary ran no " + s.test()
			if err != nil {
				msg += " (" + err.Error() + ")"
			}
			if len(tr.pre) > 0 {
				msg += ":\n" + strings.Join(tail(tr.pre, 10), "\n")
			}
			sr.Problem = msg
			return sr
		}
	}
	return sr
}

// saveLog writes the whole output of a failed run to a file, so the
// report can show a few lines and name the rest.
func (c *checker) saveLog(s checkScenario, r *runResult) {
	if len(r.lines) == 0 {
		return
	}
	if c.logDir == "" {
		d, err := os.MkdirTemp(c.logBase, "raftspec-check-")
		if err != nil {
			fmt.Fprintf(c.progress, "raftspec check: cannot keep the failure logs: %v\n", err)
			return
		}
		c.logDir = d
	}
	name := s.Name + ".log"
	if c.cfg.count > 1 {
		name = fmt.Sprintf("%s-run%d.log", s.Name, r.Run)
	}
	p := filepath.Join(c.logDir, name)
	if err := os.WriteFile(p, []byte(strings.Join(r.lines, "\n")+"\n"), 0o644); err != nil {
		fmt.Fprintf(c.progress, "raftspec check: cannot keep the failure log: %v\n", err)
		return
	}
	r.Log = p
}

// reportScenario prints the progress line of a scenario that has ended.
func (c *checker) reportScenario(i, n int, sr *scenarioResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%*d/%d] %s  %-*s", len(strconv.Itoa(n)), i, n, sr.Verdict, c.nameW, sr.Name)
	median := ""
	if c.cfg.count > 1 {
		fmt.Fprintf(&b, "  %d/%d failed", sr.FailedRuns, sr.Runs)
		median = "  median"
	}
	if v, ok := sr.statMedian(virtualOf); ok {
		fmt.Fprintf(&b, "%s %6.1fs %s", median, v, timeName(c.cfg.wallclock))
	}
	if v, ok := sr.wallMedian(); ok {
		fmt.Fprintf(&b, "  %.2fs wall", v)
	}
	fmt.Fprintln(c.progress, strings.TrimRight(b.String(), " "))
	switch {
	case sr.Problem != "":
		fmt.Fprintf(c.progress, "    %s\n", firstLine([]string{sr.Problem}))
	case c.cfg.count == 1 && sr.FailedRuns > 0:
		fmt.Fprintf(c.progress, "    %s\n", firstLine(sr.Results[0].Failures))
	}
}

func firstLine(msgs []string) string {
	if len(msgs) == 0 {
		return "(no message)"
	}
	s, _, _ := strings.Cut(msgs[0], "\n")
	return s
}

// checkReport is the outcome of a check, as the table and as -json.
type checkReport struct {
	Passed       int               `json:"passed"`
	Failed       int               `json:"failed"`
	Skipped      int               `json:"skipped"`
	Runs         int               `json:"runs"`
	FailedRuns   int               `json:"failed_runs"`
	Count        int               `json:"count"`
	Tags         string            `json:"tags"`
	Race         bool              `json:"race"`
	WallClock    bool              `json:"wallclock"`
	Interrupted  bool              `json:"interrupted,omitempty"`
	NotRun       int               `json:"not_run,omitempty"` // scenarios an interrupt left out
	WallSeconds  float64           `json:"wall_seconds"`
	BuildSeconds float64           `json:"build_seconds"`
	Virtual      float64           `json:"virtual_seconds"` // over every run
	Scenarios    []*scenarioResult `json:"scenarios"`
}

func newReport(cfg checkConfig, results []*scenarioResult) *checkReport {
	rep := &checkReport{Count: cfg.count, Race: cfg.race, WallClock: cfg.wallclock, Scenarios: results}
	if cfg.invariants {
		rep.Tags = "invariants"
	}
	for _, sr := range results {
		if sr.interrupted {
			rep.Interrupted = true
		}
		switch sr.Verdict {
		case verdictPass:
			rep.Passed++
		case verdictFail:
			rep.Failed++
		case verdictSkip:
			rep.Skipped++
		}
		rep.Runs += sr.Runs
		rep.FailedRuns += sr.FailedRuns
		for _, r := range sr.Results {
			if r.Stats != nil {
				rep.Virtual += r.Stats.Virtual
			}
		}
	}
	return rep
}

// ok reports whether the check passed: every scenario ran, none failed.
func (rep *checkReport) ok() bool { return rep.Failed == 0 && !rep.Interrupted }

// timeName names the scenario's own time (the "time" of its summary line):
// virtual time, unless the scenarios run on the wall clock.
func timeName(wallclock bool) string {
	if wallclock {
		return "time"
	}
	return "virtual"
}

// writeTable prints the table, the failures and the total.
func (rep *checkReport) writeTable(w io.Writer) {
	nameW := len("scenario")
	for _, sr := range rep.Scenarios {
		nameW = max(nameW, len(sr.Name))
	}
	many := rep.Count > 1
	failedCol := ""
	if many {
		failedCol = fmt.Sprintf("  %9s", "failed")
	}
	fmt.Fprintf(w, "%-*s  %-7s%s  %8s  %7s  %5s  %6s  %9s  %5s  %9s\n",
		nameW, "scenario", "verdict", failedCol, timeName(rep.WallClock), "wall", "peers", "rpcs", "bytes", "cmds", "evals")
	for _, sr := range rep.Scenarios {
		if many {
			failedCol = fmt.Sprintf("  %9s", fmt.Sprintf("%d/%d", sr.FailedRuns, sr.Runs))
		}
		num := func(f func(*runStats) int64) string {
			v, ok := sr.statMedian(func(s *runStats) float64 { return float64(f(s)) })
			if !ok {
				return "-"
			}
			return strconv.FormatInt(int64(v), 10)
		}
		virtual, wall := "-", "-"
		if v, ok := sr.statMedian(virtualOf); ok {
			virtual = fmt.Sprintf("%.1fs", v)
		}
		if v, ok := sr.wallMedian(); ok {
			wall = fmt.Sprintf("%.2fs", v)
		}
		fmt.Fprintf(w, "%-*s  %-7s%s  %8s  %7s  %5s  %6s  %9s  %5s  %9s\n",
			nameW, sr.Name, sr.Verdict, failedCol, virtual, wall,
			num(func(s *runStats) int64 { return s.Peers }),
			num(func(s *runStats) int64 { return s.RPCs }),
			num(func(s *runStats) int64 { return s.Bytes }),
			num(func(s *runStats) int64 { return s.Cmds }),
			num(func(s *runStats) int64 { return s.Evals }))
	}
	if many {
		fmt.Fprintf(w, "(figures are medians over each scenario's %d runs)\n", rep.Count)
	}
	rep.writeFailures(w)
	fmt.Fprintln(w)
	total := fmt.Sprintf("%d passed, %d failed", rep.Passed, rep.Failed)
	if rep.Skipped > 0 {
		total += fmt.Sprintf(", %d skipped", rep.Skipped)
	}
	if many {
		total += fmt.Sprintf(" (%d runs, %d failed)", rep.Runs, rep.FailedRuns)
	}
	verdict := verdictPass
	if !rep.ok() {
		verdict = verdictFail
	}
	if rep.Interrupted {
		verdict = "INTERRUPTED"
		total += fmt.Sprintf("; %d not run in full", rep.NotRun)
	}
	fmt.Fprintf(w, "%s: %s\n", verdict, total)
	build := "-tags " + rep.Tags
	if rep.Tags == "" {
		build = "no -tags invariants"
	}
	if rep.Race {
		build += ", -race"
	}
	clock := "virtual time"
	if rep.WallClock {
		clock = "wall clock"
	}
	fmt.Fprintf(w, "wall %.1fs (build %.1fs); scenarios' time %.1fs; %s; %s\n",
		rep.WallSeconds, rep.BuildSeconds, rep.Virtual, clock, build)
}

// maxFailureLines bounds the lines of one failure shown in the report; the
// log file has the rest.
const maxFailureLines = 12

func (rep *checkReport) writeFailures(w io.Writer) {
	for _, sr := range rep.Scenarios {
		if sr.Verdict != verdictFail {
			continue
		}
		fmt.Fprintf(w, "\n--- FAIL %s", sr.Name)
		if sr.Problem != "" {
			fmt.Fprintf(w, ": %s\n", indent(sr.Problem))
			continue
		}
		r := sr.firstFailure()
		if rep.Count > 1 {
			var runs []string
			for _, x := range sr.Results {
				if x.failed() {
					runs = append(runs, strconv.Itoa(x.Run))
				}
			}
			fmt.Fprintf(w, ": %d of %d runs failed (runs %s); run %d:", sr.FailedRuns, sr.Runs, strings.Join(runs, ", "), r.Run)
		}
		fmt.Fprintln(w)
		lines := strings.Split(strings.Join(r.Failures, "\n"), "\n")
		if len(r.Failures) == 0 {
			lines = []string{"(the run printed no failure message)"}
		}
		for i, l := range lines {
			if i == maxFailureLines {
				fmt.Fprintf(w, "    ... %d more lines\n", len(lines)-i)
				break
			}
			fmt.Fprintf(w, "    %s\n", l)
		}
		if r.Log != "" {
			fmt.Fprintf(w, "    log: %s\n", r.Log)
		}
		tags := ""
		if rep.Tags != "" {
			tags = " -tags " + rep.Tags
		}
		if rep.Race {
			tags += " -race"
		}
		fmt.Fprintf(w, "    rerun: go test%s -run '^Test%s$' -count 1 -v ./tests/\n", tags, sr.Name)
	}
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }

// runCheck is the check subcommand.
func runCheck(args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	cfg, code, ok := parseCheckFlags(args, stderr)
	if !ok {
		return code
	}
	if os.Getenv("RAFTSPEC_WALLCLOCK") == "1" {
		cfg.wallclock = true // the test binary inherits it
	}
	scenarios := selectScenarios(tests.Scenarios(), cfg.run)
	if len(scenarios) == 0 && cfg.run == nil {
		fmt.Fprintln(stderr, "raftspec check: the suite has no scenarios")
		return 1
	}
	if len(scenarios) == 0 {
		var names []string
		for _, s := range tests.Scenarios() {
			names = append(names, s.FullName())
		}
		fmt.Fprintf(stderr, "raftspec check: -run %q matches no scenario; the scenarios are:\n  %s\n", cfg.run, strings.Join(names, " "))
		return 2
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		fmt.Fprintf(stderr, "raftspec check: the go command is needed to build the suite: %v\n", err)
		return 2
	}
	root, err := moduleRoot(goCmd, "")
	if err != nil {
		fmt.Fprintf(stderr, "raftspec check: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	tmp, err := os.MkdirTemp("", "raftspec-check-build-")
	if err != nil {
		fmt.Fprintf(stderr, "raftspec check: %v\n", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "tests.test")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	buildArgs := append(append([]string{"test", "-c", "-o", bin}, cfg.buildFlags()...), "./tests/")
	what := "virtual time"
	if cfg.wallclock {
		what = "wall clock"
	}
	fmt.Fprintf(stderr, "raftspec check: %d scenario(s) x %d, %s; building: %s\n",
		len(scenarios), cfg.count, what, strings.Join(append(append([]string{"go test -c"}, cfg.buildFlags()...), "./tests/"), " "))
	buildStart := time.Now()
	build := exec.CommandContext(ctx, goCmd, buildArgs...)
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(stderr, "raftspec check: the suite did not build (%v):\n%s", err, out)
		if cfg.invariants {
			fmt.Fprintln(stderr, "(-invariants=false builds without the invariant hooks)")
		}
		return 1
	} else if cfg.verbose {
		stderr.Write(out)
	}
	buildTime := time.Since(buildStart)

	env := os.Environ()
	if cfg.wallclock {
		env = append(env, "RAFTSPEC_WALLCLOCK=1")
	}
	tb := &testBinary{path: bin, dir: filepath.Join(root, "tests"), env: env, timeout: cfg.timeout}
	if cfg.verbose {
		tb.raw = stderr
	}
	have, err := tb.list(ctx)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec check: listing the suite's tests: %v\n", err)
		return 1
	}
	c := &checker{cfg: cfg, exec: tb.exec, progress: stderr, tests: have}
	results := c.runAll(ctx, scenarios)

	rep := newReport(cfg, results)
	rep.WallSeconds = time.Since(start).Seconds()
	rep.BuildSeconds = buildTime.Seconds()
	if ctx.Err() != nil {
		rep.Interrupted = true
		rep.NotRun = len(scenarios) - len(results)
		if n := len(results); n > 0 && results[n-1].interrupted {
			rep.NotRun++ // cut short: some of its runs did not run
		}
	}
	if cfg.jsonOut {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "raftspec check: %v\n", err)
			return 1
		}
	} else {
		rep.writeTable(stdout)
	}
	if !rep.ok() {
		return 1
	}
	return 0
}

// moduleRoot returns the root of the raftspec module that holds dir ("":
// the working directory), or an error that says what to do.
func moduleRoot(goCmd, dir string) (string, error) {
	cmd := exec.Command(goCmd, "env", "GOMOD")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("not inside a Go module: run raftspec check inside the raftspec checkout (module %s)", modulePath)
	}
	data, err := os.ReadFile(gomod)
	if err != nil {
		return "", err
	}
	mod := ""
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "module" {
			mod = strings.Trim(f[1], `"`)
			break
		}
	}
	if mod != modulePath {
		return "", fmt.Errorf("%s is module %q, not %s: run raftspec check inside the raftspec checkout (to test your own Raft, call tests.RunRaft from a Go test; see the README)", gomod, mod, modulePath)
	}
	return filepath.Dir(gomod), nil
}

// testBinary is the built test binary of the tests package.
type testBinary struct {
	path, dir string
	env       []string
	timeout   time.Duration // per run
	raw       io.Writer     // -v: every line of output, as it comes
}

// list returns the Go tests the binary has.
func (b *testBinary) list(ctx context.Context) (map[string]bool, error) {
	cmd := exec.CommandContext(ctx, b.path, "-test.list", "^Test")
	cmd.Dir, cmd.Env = b.dir, b.env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%v\n%s", err, out)
	}
	have := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		have[l] = true
	}
	return have, nil
}

// exec is an execFunc over the binary.
func (b *testBinary) exec(ctx context.Context, test string, count int, line func(string)) error {
	timeout := time.Duration(0)
	if b.timeout > 0 {
		timeout = b.timeout * time.Duration(count)
		if timeout/time.Duration(count) != b.timeout { // overflow
			timeout = 0
		}
	}
	cmd := exec.CommandContext(ctx, b.path,
		"-test.run=^"+regexp.QuoteMeta(test)+"$", "-test.v",
		"-test.count="+strconv.Itoa(count), "-test.timeout="+timeout.String())
	cmd.Dir, cmd.Env = b.dir, b.env
	cmd.WaitDelay = 5 * time.Second
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = pw, pw // one stream, in the order written
	if err := cmd.Start(); err != nil {
		pr.Close()
		pw.Close()
		return err
	}
	pw.Close()
	rd := bufio.NewReader(pr)
	for {
		s, err := rd.ReadString('\n')
		if s != "" {
			if b.raw != nil {
				io.WriteString(b.raw, s)
			}
			line(strings.TrimRight(s, "\r\n"))
		}
		if err != nil {
			break
		}
	}
	pr.Close()
	return cmd.Wait()
}
