package main

// The run loop of raftspec check: each scenario in its own process of the
// test binary, its test2json events read as they stream, its failures
// logged.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// execFunc runs the Go test named test count times in one process,
// passing each line of go tool test2json's output (one JSON event) to
// line, and returns when the process has exited, with its exit error.
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
		sr.Problem = fmt.Sprintf("the test binary has no Go test %s: run go generate ./tests/ (it writes the entry points)", s.test())
		return sr
	}
	for len(sr.Results) < c.cfg.count {
		tr := newRunReader(s.test(), len(sr.Results)+1, func(r *runResult) {
			sr.Results = append(sr.Results, r)
			if r.errored() {
				c.saveLog(s, r)
			}
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
	if len(r.output) == 0 {
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
	if err := os.WriteFile(p, []byte(strings.Join(r.output, "")), 0o644); err != nil {
		fmt.Fprintf(c.progress, "raftspec check: cannot keep the failure log: %v\n", err)
		return
	}
	r.Log = p
}

// reportScenario prints the progress line of a scenario that has ended.
func (c *checker) reportScenario(i, n int, sr *scenarioResult) {
	var b strings.Builder
	fmt.Fprintf(&b, "[%*d/%d] %s  %-*s", len(strconv.Itoa(n)), i, n, sr.shown(), c.nameW, sr.Name)
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
	case sr.Verdict == verdictError:
		fmt.Fprintf(c.progress, "    %s\n", sr.firstError().StatsErr)
	}
}

// testBinary is the built test binary of the tests package.
type testBinary struct {
	path, dir string
	env       []string
	timeout   time.Duration // per run
	raw       io.Writer     // -v: every line of output, as it comes
	test2json string        // go tool test2json's executable (go tool -n test2json)
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

// exec is an execFunc over the binary: it runs with -test.v=test2json,
// its output (stdout and stderr, in the order written) piped into go tool
// test2json, whose events are passed on. check runs the binary itself,
// not under test2json, so that a timeout or an interrupt kills the
// binary, and its exit status is known.
func (b *testBinary) exec(ctx context.Context, test string, count int, line func(string)) error {
	timeout := time.Duration(0)
	if b.timeout > 0 {
		timeout = b.timeout * time.Duration(count)
		if timeout/time.Duration(count) != b.timeout { // overflow
			timeout = 0
		}
	}
	cmd := exec.CommandContext(ctx, b.path,
		"-test.run=^"+regexp.QuoteMeta(test)+"$", "-test.v=test2json",
		"-test.count="+strconv.Itoa(count), "-test.timeout="+timeout.String())
	cmd.Dir, cmd.Env = b.dir, b.env
	cmd.WaitDelay = 5 * time.Second
	conv := exec.Command(b.test2json, "-t") // -t: Elapsed, in pass and fail events; it ends when its input does
	var convErr bytes.Buffer
	conv.Stderr = &convErr
	pr, pw, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr, conv.Stdin = pw, pw, pr
	events, err := conv.StdoutPipe()
	if err == nil {
		err = conv.Start()
	}
	if err != nil {
		pr.Close()
		pw.Close()
		return fmt.Errorf("go tool test2json: %v", err)
	}
	err = cmd.Start()
	pr.Close()
	pw.Close() // test2json's input ends when the binary (and any child) has closed it
	if err != nil {
		conv.Wait()
		return err
	}
	rd := bufio.NewReader(events)
	for {
		s, err := rd.ReadString('\n')
		if s = strings.TrimRight(s, "\r\n"); s != "" {
			if b.raw != nil {
				writeRaw(b.raw, s)
			}
			line(s)
		}
		if err != nil {
			break
		}
	}
	runErr := cmd.Wait()
	if err := conv.Wait(); err != nil && runErr == nil {
		return fmt.Errorf("go tool test2json: %v: %s", err, strings.TrimSpace(convErr.String()))
	}
	return runErr
}

// writeRaw writes the output text of an event to w: -v shows the binary's
// output as it was printed.
func writeRaw(w io.Writer, event string) {
	var e testEvent
	if json.Unmarshal([]byte(event), &e) != nil {
		fmt.Fprintln(w, event)
	} else if e.Action == "output" {
		io.WriteString(w, e.Output)
	}
}

// findTest2json returns the path of go tool test2json's executable; the
// go command builds it if its distribution does not ship it.
func findTest2json(ctx context.Context, goCmd string) (string, error) {
	out, err := exec.CommandContext(ctx, goCmd, "tool", "-n", "test2json").Output()
	if p := strings.TrimSpace(string(out)); err == nil && p != "" {
		return p, nil
	}
	return "", fmt.Errorf("go tool -n test2json: %v", err)
}
