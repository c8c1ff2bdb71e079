package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftspec/raftspec/tests"
)

// cannedExec is an execFunc that replays a test2json stream per Go test,
// as go tool test2json prints it, and exits with the given error.
type cannedExec map[string]struct {
	out string
	err error
}

func (ce cannedExec) exec(_ context.Context, test string, _ int, line func(string)) error {
	c, ok := ce[test]
	if !ok {
		return fmt.Errorf("cannedExec: no stream for %s", test)
	}
	for _, l := range strings.Split(strings.TrimSuffix(c.out, "\n"), "\n") {
		line(l)
	}
	return c.err
}

// Exit errors of a test binary.
var (
	exitStatus1 = fmt.Errorf("exit status 1")
	exitStatus2 = fmt.Errorf("exit status 2")
)

// recorded returns a test2json stream of testdata/test2json, recorded
// from the tests package's binary (go test -c, then -test.v=test2json
// piped into go tool test2json -t), with its scenario renamed to as
// ("" keeps it). Each was recorded from a real run: pass (the reference),
// fail (a Raft that never elects), leak (one whose Kill leaves a
// goroutine), panic (one whose Start panics), timeout (-test.timeout=1s
// on the wall clock), stalled (a goroutine that never blocks durably: the
// watchdog). Three are pass, edited: nostats without its stats
// attribute, truncated with the attribute's JSON cut short, cutevent
// with the attribute's event line cut in half.
func recorded(t *testing.T, file, as string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "test2json", file+".jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	if as != "" {
		for _, from := range []string{"InitialElection3A", "BasicAgree3B"} {
			s = strings.ReplaceAll(s, from, as)
		}
	}
	return s
}

func newTestChecker(t *testing.T, cfg checkConfig, ce cannedExec, have ...string) (*checker, *bytes.Buffer) {
	progress := &bytes.Buffer{}
	c := &checker{cfg: cfg, exec: ce.exec, progress: progress, logBase: t.TempDir()}
	if have != nil {
		c.tests = map[string]bool{}
		for _, h := range have {
			c.tests[h] = true
		}
	}
	return c, progress
}

// TestCheckReportsFailure: a passing and a failing stream, and a
// scenario the binary has no test for, make the table, the failures, the
// total and a failed check. The checker must be able to fail.
func TestCheckReportsFailure(t *testing.T) {
	ce := cannedExec{
		"TestInitialElection3A": {recorded(t, "pass", ""), nil},
		"TestFigure83C":         {recorded(t, "fail", "Figure83C"), exitStatus1},
	}
	cfg := checkConfig{count: 1, invariants: true}
	c, progress := newTestChecker(t, cfg, ce, "TestInitialElection3A", "TestFigure83C")
	results := c.runAll(context.Background(), []checkScenario{
		{Name: "InitialElection3A", Part: "3A"},
		{Name: "Figure83C", Part: "3C"},
		{Name: "SnapshotInit3D", Part: "3D"},
	})
	rep := newReport(cfg, results)
	if rep.ok() {
		t.Fatalf("report ok with a failed scenario")
	}
	var out bytes.Buffer
	rep.writeTable(&out)
	logPath := filepath.Join(c.logDir, "Figure83C.log")
	want := `scenario           verdict   virtual     wall  peers    rpcs      bytes   cmds      evals
InitialElection3A  PASS         3.1s    0.00s      3      58      16950      0       3185
Figure83C          FAIL         5.1s    0.00s      3       0          0      0          0
SnapshotInit3D     FAIL            -        -      -       -          -      -          -

--- FAIL Figure83C
    scenarios_3a.go:15: expected one leader, got none
    log: ` + logPath + `
    rerun: go test -tags invariants -run '^TestFigure83C$' -count 1 -v ./tests/

--- FAIL SnapshotInit3D: the test binary has no Go test TestSnapshotInit3D: run go generate ./tests/ (it writes the entry points)

FAIL: 1 passed, 2 failed
wall 0.0s (build 0.0s); scenarios' time 8.2s; virtual time; -tags invariants
`
	if got := out.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("failure log: %v", err)
	}
	if !strings.Contains(string(log), "expected one leader") || !strings.Contains(string(log), "--- FAIL: TestFigure83C") {
		t.Errorf("failure log lacks the run's output:\n%s", log)
	}
	wantProgress := []string{
		"[1/3] PASS  InitialElection3A    3.1s virtual  0.00s wall",
		"[2/3] FAIL  Figure83C            5.1s virtual  0.00s wall",
		"    scenarios_3a.go:15: expected one leader, got none",
		"[3/3] FAIL  SnapshotInit3D",
	}
	for _, w := range wantProgress {
		if !strings.Contains(progress.String(), w) {
			t.Errorf("progress lacks %q:\n%s", w, progress)
		}
	}
}

// TestCheckAllPass: the same table code says PASS, and the report is ok.
func TestCheckAllPass(t *testing.T) {
	cfg := checkConfig{count: 1}
	c, _ := newTestChecker(t, cfg, cannedExec{"TestInitialElection3A": {recorded(t, "pass", ""), nil}})
	rep := newReport(cfg, c.runAll(context.Background(), []checkScenario{{Name: "InitialElection3A", Part: "3A"}}))
	var out bytes.Buffer
	rep.writeTable(&out)
	if !rep.ok() || !strings.Contains(out.String(), "PASS: 1 passed, 0 failed\n") || strings.Contains(out.String(), "--- FAIL") {
		t.Errorf("ok = %v, table:\n%s", rep.ok(), out.String())
	}
	if c.logDir != "" {
		t.Errorf("a passing check wrote failure logs in %s", c.logDir)
	}
}

// TestRecordedStreams: each recorded stream gives the verdict, figures and
// failure it should; a crash (panic, timeout, stall) a FAIL with its
// message, missing or unreadable figures on a passing run an ERROR that
// says why. Never a panic of check's own.
func TestRecordedStreams(t *testing.T) {
	for _, tc := range []struct {
		file    string
		err     error
		verdict string
		result  string // of the Stats; "": none
		failure string // the start of the first failure, or of StatsErr for ERROR
		also    string // in the failures
	}{
		{"pass", nil, verdictPass, tests.ResultOK, "", ""},
		{"fail", exitStatus1, verdictFail, tests.ResultFailed, "scenarios_3a.go:15: expected one leader, got none", ""},
		{"leak", exitStatus1, verdictFail, tests.ResultLeak, "suite.go:", "goroutine leak after Kill: 1 kinds of goroutine"},
		{"panic", exitStatus2, verdictFail, "", "panic: Start: index out of range [5] with length 3 [recovered, repanicked]",
			"\tat github.com/raftspec/raftspec/tests.panicky.Start(...) ("},
		{"timeout", exitStatus2, verdictFail, "", "panic: test timed out after 1s\n\trunning tests:", "(the test binary exited: exit status 2)"},
		{"stalled", exitStatus2, verdictFail, "", "panic: raftspec: in InitialElection3A, virtual time has not advanced for 3m0s", ""},
		{"nostats", nil, verdictError, "", "the scenario passed but emitted no raftspec-stats attribute", ""},
		{"truncated", nil, verdictError, "", "the scenario's raftspec-stats attribute is unreadable (unexpected end of JSON input)", ""},
		{"cutevent", nil, verdictError, "", "an event of the test2json stream is unreadable (", ""},
	} {
		t.Run(tc.file, func(t *testing.T) {
			cfg := checkConfig{count: 1}
			c, _ := newTestChecker(t, cfg, cannedExec{"TestInitialElection3A": {recorded(t, tc.file, "InitialElection3A"), tc.err}})
			sr := c.runScenario(context.Background(), checkScenario{Name: "InitialElection3A", Part: "3A"})
			if sr.Verdict != tc.verdict || len(sr.Results) != 1 {
				t.Fatalf("verdict %s, %d runs; want %s, 1", sr.Verdict, len(sr.Results), tc.verdict)
			}
			if want := map[bool]string{true: verdictLeak, false: tc.verdict}[tc.file == "leak"]; sr.shown() != want {
				t.Errorf("shown as %s, want %s (a scenario that failed only by leaking says LEAK)", sr.shown(), want)
			}
			r := sr.Results[0]
			if got := r.Stats; (got == nil) != (tc.result == "") || got != nil && (got.Result != tc.result || got.Peers != 3) {
				t.Errorf("stats = %+v, want result %q and 3 peers", got, tc.result)
			}
			msg := strings.Join(r.Failures, "\n")
			if tc.verdict == verdictError {
				msg = r.StatsErr
				if r.Log == "" {
					t.Errorf("no log kept for an unreadable run")
				}
			}
			if !strings.HasPrefix(msg, tc.failure) || !strings.Contains(msg, tc.also) {
				t.Errorf("failure:\n%s\nwant it to start with %q and hold %q", msg, tc.failure, tc.also)
			}
			var out bytes.Buffer
			newReport(cfg, []*scenarioResult{sr}).writeTable(&out)
			if tc.verdict == verdictError && (!strings.Contains(out.String(), "--- ERROR InitialElection3A: run 1 passed, but "+tc.failure) ||
				!strings.Contains(out.String(), "FAIL: 0 passed, 0 failed, 1 unreadable")) {
				t.Errorf("table:\n%s", out.String())
			}
		})
	}
}

// TestCheckCount: with -count, each scenario reports its failed runs and
// the medians of its figures; a panic after the run's summary belongs to
// its run.
func TestCheckCount(t *testing.T) {
	out := recorded(t, "pass", "Figure8Unreliable3C") + recorded(t, "pass", "Figure8Unreliable3C") + recorded(t, "panic", "Figure8Unreliable3C")
	cfg := checkConfig{count: 3}
	c, progress := newTestChecker(t, cfg, cannedExec{"TestFigure8Unreliable3C": {out, exitStatus2}})
	results := c.runAll(context.Background(), []checkScenario{{Name: "Figure8Unreliable3C", Part: "3C"}})
	sr := results[0]
	if sr.Verdict != verdictFail || sr.Runs != 3 || sr.FailedRuns != 1 {
		t.Fatalf("verdict %s, %d runs, %d failed; want FAIL, 3, 1", sr.Verdict, sr.Runs, sr.FailedRuns)
	}
	if got := sr.Results[2].Failures; len(got) == 0 || !strings.HasPrefix(got[0], "panic: Start: index out of range") {
		t.Errorf("failures of run 3 = %q", got)
	}
	var table bytes.Buffer
	newReport(cfg, results).writeTable(&table)
	for _, w := range []string{
		"scenario             verdict     failed   virtual",
		"Figure8Unreliable3C  FAIL           1/3      3.1s    0.00s      3      58",
		"--- FAIL Figure8Unreliable3C: 1 of 3 runs failed (runs 3); run 3:",
		"FAIL: 0 passed, 1 failed (3 runs, 1 failed)",
	} {
		if !strings.Contains(table.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, table.String())
		}
	}
	if !strings.Contains(progress.String(), "    run 3/3 FAIL: panic: Start: index out of range") {
		t.Errorf("progress does not report the failed run:\n%s", progress)
	}
}

// TestRunReaderCrash: a process that fails after every run passed fails
// the last one; a failed run then a passing one stand as they are; a
// "panic: " line in a run that goes on to pass is no failure.
func TestRunReaderCrash(t *testing.T) {
	var done []*runResult
	collect := func(r *runResult) { done = append(done, r) }
	feed := func(rr *runReader, stream string) {
		for _, l := range strings.Split(strings.TrimSuffix(stream, "\n"), "\n") {
			rr.line(l)
		}
	}
	rr := newRunReader("TestInitialElection3A", 1, collect)
	feed(rr, recorded(t, "pass", "")+`{"Action":"output","Output":"fatal error: concurrent map writes\n"}`)
	if rr.finish(exitStatus2) != nil || len(done) != 1 || !done[0].failed() {
		t.Fatalf("a crash after a passing run: done = %+v, want one failed run", done)
	}
	if got := strings.Join(done[0].Failures, "\n"); !strings.Contains(got, "after the run passed") || !strings.Contains(got, "fatal error: concurrent map writes") {
		t.Errorf("failures = %q", got)
	}

	done = nil
	rr = newRunReader("TestInitialElection3A", 1, collect)
	notPanic := `{"Action":"output","Test":"TestInitialElection3A","Output":"panic: not really\n"}`
	pass := strings.Replace(recorded(t, "pass", ""), "\n", "\n"+notPanic+"\n", 2)
	feed(rr, recorded(t, "fail", "")+pass)
	rr.finish(exitStatus1)
	if len(done) != 2 || !done[0].failed() || done[1].failed() || done[1].Run != 2 {
		t.Fatalf("fail then pass: done = %+v, want a failed run and a passing one", done)
	}
}

// TestCheckChild is run by TestExecCrashGoesOn as a fake scenario: on its
// second run it panics, on its fourth it fails.
func TestCheckChild(t *testing.T) {
	dir := os.Getenv("RAFTSPEC_CHECK_CHILD")
	if dir == "" {
		t.Skip("a child of TestExecCrashGoesOn")
	}
	p := filepath.Join(dir, "runs")
	b, _ := os.ReadFile(p)
	n, _ := strconv.Atoi(string(b))
	n++
	if err := os.WriteFile(p, []byte(strconv.Itoa(n)), 0o644); err != nil {
		t.Fatal(err)
	}
	switch n {
	case 2:
		panic("boom")
	case 4:
		t.Errorf("run %d: wrong", n)
	}
	t.Attr(tests.StatsAttr, fmt.Sprintf(`{"version":1,"scenario":"Child","result":"ok","seconds":%d,"peers":3,"rpcs":10}`, n))
}

// TestExecCrashGoesOn runs a real process, this test binary, as the suite:
// a panic kills the process in run 2, and runs 3 and 4 go on in a new one.
func TestExecCrashGoesOn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	t2j, err := findTest2json(context.Background(), "go")
	if err != nil {
		t.Skip(err)
	}
	tb := &testBinary{path: os.Args[0], env: append(os.Environ(), "RAFTSPEC_CHECK_CHILD="+t.TempDir()), timeout: time.Minute, test2json: t2j}
	cfg := checkConfig{count: 4}
	c := &checker{cfg: cfg, exec: tb.exec, progress: &bytes.Buffer{}, logBase: t.TempDir()}
	sr := c.runScenario(context.Background(), checkScenario{Name: "CheckChild"})
	var got []string
	for _, r := range sr.Results {
		got = append(got, fmt.Sprintf("%d %s %q", r.Run, r.Verdict, firstLine(r.Failures)))
	}
	want := []string{
		`1 PASS "(no message)"`,
		`2 FAIL "panic: boom [recovered, repanicked]"`,
		`3 PASS "(no message)"`,
		`4 FAIL "check_test.go:` + lineOf(t, "run %d: wrong") + `: run 4: wrong"`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("runs:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if r := sr.Results[1]; !strings.Contains(strings.Join(r.Failures, "\n"), "\tat github.com/raftspec/raftspec/cmd/raftspec.TestCheckChild(") {
		t.Errorf("the panic's failure does not say where: %q", r.Failures)
	}
	if sr.Results[2].Stats == nil || sr.Results[2].Stats.Seconds != 3 {
		t.Errorf("run 3 stats = %+v, want time 3.0s", sr.Results[2].Stats)
	}
}

// lineOf returns the line number in this file of the line holding s.
func lineOf(t *testing.T, s string) string {
	b, err := os.ReadFile("check_test.go")
	if err != nil {
		t.Fatal(err)
	}
	for i, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "t.Errorf(\""+s) {
			return strconv.Itoa(i + 1)
		}
	}
	t.Fatalf("no line holds %q", s)
	return ""
}

// TestCheckUsage: bad flags and a -run that selects nothing exit 2 with a
// message, before anything is built.
func TestCheckUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "usage: raftspec check"},
		{[]string{"-bogus"}, 2, "flag provided but not defined: -bogus"},
		{[]string{"-count", "0"}, 2, "-count 0: must be at least 1"},
		{[]string{"-count", "x"}, 2, `invalid value "x" for flag -count`},
		{[]string{"-run", "("}, 2, `-run "(": error parsing regexp`},
		{[]string{"-timeout", "-1s"}, 2, "-timeout -1s: must not be negative"},
		{[]string{"Figure83C"}, 2, `Figure83C: not a lab Raft package directory (select scenarios with -run)`},
		{[]string{"-run", "NoSuchScenario"}, 2, `-run "NoSuchScenario" matches no scenario; the scenarios are:`},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"check"}, tc.args...), &stdout, &stderr)
		if code != tc.code || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("check %q = %d, stderr:\n%s\nwant %d and %q", tc.args, code, stderr.String(), tc.code, tc.want)
		}
		if stdout.Len() > 0 {
			t.Errorf("check %q wrote to stdout: %q", tc.args, stdout.String())
		}
	}
}

// TestSelectScenarios: -run matches the name with or without "Test".
func TestSelectScenarios(t *testing.T) {
	cfg, _, ok := parseCheckFlags([]string{"-run", "^TestInitialElection3A$"}, &bytes.Buffer{})
	if !ok {
		t.Fatal("parse failed")
	}
	c, _, _ := parseCheckFlags([]string{"-run", "^InitialElection3A$"}, &bytes.Buffer{})
	for _, re := range []checkConfig{cfg, c} {
		if got := selectScenarios(suite(), re.run); len(got) != 1 || got[0].Name != "InitialElection3A" {
			t.Errorf("-run %v selects %v, want InitialElection3A", re.run, got)
		}
	}
}

// TestModuleRoot: outside the raftspec module, check says where to run.
func TestModuleRoot(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	if root, err := moduleRoot(goCmd, "."); err != nil {
		t.Errorf("moduleRoot(.): %v", err)
	} else if _, err := os.Stat(filepath.Join(root, "tests", "suite.go")); err != nil {
		t.Errorf("moduleRoot(.) = %q, which has no tests/suite.go", root)
	}
	other := t.TempDir()
	if err := os.WriteFile(filepath.Join(other, "go.mod"), []byte("module example.com/myraft\n\ngo 1.26\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = moduleRoot(goCmd, other)
	if err == nil || !strings.Contains(err.Error(), `is module "example.com/myraft", not github.com/raftspec/raftspec`) {
		t.Errorf("moduleRoot(other module) error = %v", err)
	}
}

// TestCheckEndToEnd builds the suite and runs one quick scenario through
// the command, with the build tags this test was built with, as JSON.
func TestCheckEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tests package")
	}
	args := []string{"check", "-json", "-run", "^InitialElection3A$", "-invariants=false"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-tags" && strings.Contains(s.Value, "invariants") {
				args[len(args)-1] = "-invariants=true"
			}
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("raftspec %q = %d; stderr:\n%s\nstdout:\n%s", args, code, stderr.String(), stdout.String())
	}
	var rep checkReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("stdout is not the JSON report: %v\n%s", err, stdout.String())
	}
	if rep.Passed != 1 || rep.Failed != 0 || len(rep.Scenarios) != 1 {
		t.Fatalf("report: %d passed, %d failed, %d scenarios; want 1, 0, 1\n%s", rep.Passed, rep.Failed, len(rep.Scenarios), stdout.String())
	}
	sr := rep.Scenarios[0]
	if sr.Name != "InitialElection3A" || sr.Verdict != verdictPass || len(sr.Results) != 1 || sr.Results[0].Stats == nil || sr.Results[0].Stats.Peers != 3 {
		t.Errorf("scenario = %+v, want InitialElection3A passed with 3 peers", sr)
	}
	if !strings.Contains(stderr.String(), "[1/1] PASS  InitialElection3A") {
		t.Errorf("no progress line on stderr:\n%s", stderr.String())
	}
}
