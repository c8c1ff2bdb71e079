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
)

// cannedExec is an execFunc that replays a transcript per Go test, as the
// test binary would print it, and exits with the given error.
type cannedExec map[string]struct {
	out string
	err error
}

func (ce cannedExec) exec(_ context.Context, test string, _ int, line func(string)) error {
	c, ok := ce[test]
	if !ok {
		return fmt.Errorf("cannedExec: no transcript for %s", test)
	}
	for _, l := range strings.Split(strings.TrimSuffix(c.out, "\n"), "\n") {
		line(l)
	}
	return c.err
}

// exitStatus1 stands for the error of a test binary that exits with 1.
var exitStatus1 = fmt.Errorf("exit status 1")

// Transcripts in the shape the tests package's binary prints with -test.v.
const (
	passElection = `=== RUN   TestInitialElection3A
  ... Passed -- InitialElection3A    time   3.1s  peers 3  rpcs     56  bytes     16358  cmds     0  goroutines   16  evals      3076
--- PASS: TestInitialElection3A (0.01s)
PASS
`
	failFigure8 = `=== RUN   TestFigure83C
    checks.go:90: servers disagree on term: 4 and 5
    apply.go:61: apply error: commit index=7 server=2 101 != server=0 100
        the logs diverged at index 7
  ... FAILED -- Figure83C            time  12.5s  peers 5  rpcs    727  bytes    162905  cmds    44  goroutines   71  evals    120342
--- FAIL: TestFigure83C (0.04s)
FAIL
`
)

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

// TestCheckReportsFailure: a passing and a failing transcript, and a
// scenario the binary has no test for, make the table, the failures, the
// total and a failed check. The checker must be able to fail.
func TestCheckReportsFailure(t *testing.T) {
	ce := cannedExec{
		"TestInitialElection3A": {passElection, nil},
		"TestFigure83C":         {failFigure8, exitStatus1},
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
InitialElection3A  PASS         3.1s    0.01s      3      56      16358      0       3076
Figure83C          FAIL        12.5s    0.04s      5     727     162905     44     120342
SnapshotInit3D     FAIL            -        -      -       -          -      -          -

--- FAIL Figure83C
    checks.go:90: servers disagree on term: 4 and 5
    apply.go:61: apply error: commit index=7 server=2 101 != server=0 100
    the logs diverged at index 7
    log: ` + logPath + `
    rerun: go test -tags invariants -run '^TestFigure83C$' -count 1 -v ./tests/

--- FAIL SnapshotInit3D: the test binary has no Go test TestSnapshotInit3D: add func TestSnapshotInit3D(t *testing.T) to tests/reference_test.go

FAIL: 1 passed, 2 failed
wall 0.0s (build 0.0s); scenarios' time 15.6s; virtual time; -tags invariants
`
	if got := out.String(); got != want {
		t.Errorf("table:\n%s\nwant:\n%s", got, want)
	}
	log, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatalf("failure log: %v", err)
	}
	if !strings.Contains(string(log), "servers disagree on term") || !strings.Contains(string(log), "--- FAIL: TestFigure83C") {
		t.Errorf("failure log lacks the run's output:\n%s", log)
	}
	wantProgress := []string{
		"[1/3] PASS  InitialElection3A    3.1s virtual  0.01s wall",
		"[2/3] FAIL  Figure83C           12.5s virtual  0.04s wall",
		"    checks.go:90: servers disagree on term: 4 and 5",
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
	c, _ := newTestChecker(t, cfg, cannedExec{"TestInitialElection3A": {passElection, nil}})
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

// TestCheckCount: with -count, each scenario reports its failed runs and
// the medians of its figures; a panic after "--- FAIL" belongs to its run.
func TestCheckCount(t *testing.T) {
	run := func(verdict, virtual, rpcs string) string {
		summary := "Passed"
		if verdict == "FAIL" {
			summary = "FAILED"
		}
		return "=== RUN   TestFigure8Unreliable3C\n" +
			"  ... " + summary + " -- Figure8Unreliable3C  time " + virtual + "s  peers 5  rpcs " + rpcs + "  bytes 10  cmds 1\n" +
			"--- " + verdict + ": TestFigure8Unreliable3C (0.30s)\n"
	}
	out := run("PASS", "30.0", "100") + run("PASS", "31.0", "300") +
		run("FAIL", "20.0", "200") + "panic: send on closed channel [recovered, repanicked]\n\n" +
		"goroutine 7 [running]:\ntesting.tRunner.func1.2({0x5, 0x6})\n\t/go/src/testing/testing.go:1974 +0x232\n" +
		"panic({0x5, 0x6})\n\t/go/src/runtime/panic.go:860 +0x13a\n" +
		"github.com/raftspec/raftspec/raft.(*Raft).apply(0xc0)\n\t/work/raft/raft.go:210 +0x45\n"
	cfg := checkConfig{count: 3}
	c, progress := newTestChecker(t, cfg, cannedExec{"TestFigure8Unreliable3C": {out, fmt.Errorf("exit status 2")}})
	results := c.runAll(context.Background(), []checkScenario{{Name: "Figure8Unreliable3C", Part: "3C"}})
	sr := results[0]
	if sr.Verdict != verdictFail || sr.Runs != 3 || sr.FailedRuns != 1 {
		t.Fatalf("verdict %s, %d runs, %d failed; want FAIL, 3, 1", sr.Verdict, sr.Runs, sr.FailedRuns)
	}
	wantMsg := "panic: send on closed channel [recovered, repanicked]\n\tat github.com/raftspec/raftspec/raft.(*Raft).apply(0xc0) (/work/raft/raft.go:210)"
	if got := sr.Results[2].Failures; len(got) == 0 || got[0] != wantMsg {
		t.Errorf("failures of run 3 = %q, want first %q", got, wantMsg)
	}
	var table bytes.Buffer
	newReport(cfg, results).writeTable(&table)
	for _, w := range []string{
		"scenario             verdict     failed   virtual",
		"Figure8Unreliable3C  FAIL           1/3     30.0s    0.30s      5     200",
		"--- FAIL Figure8Unreliable3C: 1 of 3 runs failed (runs 3); run 3:",
		"FAIL: 0 passed, 1 failed (3 runs, 1 failed)",
	} {
		if !strings.Contains(table.String(), w) {
			t.Errorf("table lacks %q:\n%s", w, table.String())
		}
	}
	if !strings.Contains(progress.String(), "    run 3/3 FAIL: panic: send on closed channel") {
		t.Errorf("progress does not report the failed run:\n%s", progress)
	}
}

// TestTranscriptCrash: a process that dies in a run (a timeout) fails that
// run; a process that fails after every run passed fails the last one.
func TestTranscriptCrash(t *testing.T) {
	var done []*runResult
	tr := newTranscript("TestBackup3B", 1, func(r *runResult) { done = append(done, r) })
	for _, l := range strings.Split("=== RUN   TestBackup3B\npanic: test timed out after 10m0s\n\trunning tests:\n\t\tTestBackup3B (10m0s)\n\ngoroutine 5 [running]:", "\n") {
		tr.line(l)
	}
	crashed := tr.finish(fmt.Errorf("exit status 2"))
	if crashed == nil || len(done) != 1 || done[0] != crashed || !crashed.failed() {
		t.Fatalf("crashed = %+v, done = %v; want the one run, failed", crashed, done)
	}
	want := []string{"panic: test timed out after 10m0s\n\trunning tests:\n\t\tTestBackup3B (10m0s)", "(the test binary exited: exit status 2)"}
	if got := crashed.Failures; strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("failures = %q, want %q", got, want)
	}

	done = nil
	tr = newTranscript("TestBackup3B", 1, func(r *runResult) { done = append(done, r) })
	for _, l := range strings.Split(passElection, "\n") {
		tr.line(strings.ReplaceAll(l, "InitialElection3A", "Backup3B"))
	}
	tr.line("fatal error: concurrent map writes")
	if tr.finish(fmt.Errorf("exit status 2")) != nil || len(done) != 1 || !done[0].failed() {
		t.Fatalf("a crash after a passing run: done = %+v, want one failed run", done)
	}

	// A failed run, then a passing one: the process exits with 1, and the
	// passing run stands. A "panic: " printed at the start of a line is no
	// panic if the run goes on.
	done = nil
	tr = newTranscript("TestFigure83C", 1, func(r *runResult) { done = append(done, r) })
	for _, l := range strings.Split(failFigure8+"=== RUN   TestFigure83C\npanic: not really\n--- PASS: TestFigure83C (0.01s)\nFAIL", "\n") {
		tr.line(l)
	}
	tr.finish(exitStatus1)
	if len(done) != 2 || !done[0].failed() || done[1].failed() {
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
	fmt.Printf("  ... Passed -- Child  time %d.0s  peers 3  rpcs 10  bytes 100  cmds 2\n", n)
}

// TestExecCrashGoesOn runs a real process, this test binary, as the suite:
// a panic kills the process in run 2, and runs 3 and 4 go on in a new one.
func TestExecCrashGoesOn(t *testing.T) {
	if testing.Short() {
		t.Skip("runs child processes")
	}
	tb := &testBinary{path: os.Args[0], env: append(os.Environ(), "RAFTSPEC_CHECK_CHILD="+t.TempDir()), timeout: time.Minute}
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
	if sr.Results[2].Stats == nil || sr.Results[2].Stats.Virtual != 3 {
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
