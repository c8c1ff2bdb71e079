package main

// The results of raftspec check, and how they are reported: the progress
// figures, the table, the failures, the totals and -json.

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/raftspec/raftspec/tests"
)

// runResult is one run of one scenario.
type runResult struct {
	Run      int          `json:"run"` // 1-based, among the runs of its scenario
	Verdict  string       `json:"verdict"`
	Wall     float64      `json:"wall_seconds"`
	Stats    *tests.Stats `json:"stats,omitempty"`       // nil if the run emitted none (a crash) or none readable
	StatsErr string       `json:"stats_error,omitempty"` // why a passing run has no Stats
	Failures []string     `json:"failures,omitempty"`
	Log      string       `json:"log,omitempty"` // file holding the run's whole output, when it failed

	output []string // the run's output text, for Log
}

func (r *runResult) failed() bool { return r.Verdict == verdictFail }

// errored reports whether the run passed but its figures are missing or
// unreadable: the check cannot vouch for what it read.
func (r *runResult) errored() bool { return r.Verdict == verdictPass && r.StatsErr != "" }

// lines is the run's output as lines.
func (r *runResult) lines() []string {
	return strings.Split(strings.TrimSuffix(strings.Join(r.output, ""), "\n"), "\n")
}

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

// shown is the verdict as the table and the progress line show it: LEAK
// for a scenario that failed only because goroutines outlived Kill (every
// failed run says so in its Stats: its Raft behaviour passed every check).
func (sr *scenarioResult) shown() string {
	if sr.Verdict != verdictFail || sr.Problem != "" {
		return sr.Verdict
	}
	for _, r := range sr.Results {
		if r.failed() && (r.Stats == nil || r.Stats.Result != tests.ResultLeak) {
			return sr.Verdict
		}
	}
	return verdictLeak
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
	case sr.firstError() != nil:
		sr.Verdict = verdictError
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

// firstError is the first run that errored, or nil.
func (sr *scenarioResult) firstError() *runResult {
	for _, r := range sr.Results {
		if r.errored() {
			return r
		}
	}
	return nil
}

// median is the lower median (an observed value) of a figure over the runs
// that have it, and false if none does.
func (sr *scenarioResult) median(f func(*runResult) (float64, bool)) (float64, bool) {
	var xs []float64
	for _, r := range sr.Results {
		if x, ok := f(r); ok {
			xs = append(xs, x)
		}
	}
	if len(xs) == 0 {
		return 0, false
	}
	sort.Float64s(xs)
	return xs[(len(xs)-1)/2], true
}

// statMedian is the median of a figure over the runs that printed a
// summary line.
func (sr *scenarioResult) statMedian(f func(*tests.Stats) float64) (float64, bool) {
	return sr.median(func(r *runResult) (float64, bool) {
		if r.Stats == nil {
			return 0, false
		}
		return f(r.Stats), true
	})
}

// wallMedian is the median of the runs' wall times.
func (sr *scenarioResult) wallMedian() (float64, bool) {
	return sr.median(func(r *runResult) (float64, bool) { return r.Wall, true })
}

// statCell is the median of an integer figure as a table cell: "-" if no
// run printed a summary line.
func (sr *scenarioResult) statCell(f func(*tests.Stats) int64) string {
	v, ok := sr.statMedian(func(s *tests.Stats) float64 { return float64(f(s)) })
	if !ok {
		return "-"
	}
	return strconv.FormatInt(int64(v), 10)
}

func virtualOf(s *tests.Stats) float64 { return s.Seconds }

// cmdsOf is the table's cmds: a KV scenario's client operations, a Raft
// scenario's highest applied index.
func (sr *scenarioResult) cmdsOf(s *tests.Stats) int64 {
	if strings.HasPrefix(sr.Part, "4") {
		return int64(s.Ops)
	}
	return int64(s.Cmds)
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
	dir          string            // check DIR: the student's package, for the rerun command
	Passed       int               `json:"passed"`
	Failed       int               `json:"failed"`
	Errors       int               `json:"errors,omitempty"` // scenarios whose figures could not be read
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
	rep := &checkReport{Count: cfg.count, Race: cfg.race, WallClock: cfg.wallclock, Scenarios: results, dir: cfg.dir}
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
		case verdictError:
			rep.Errors++
		}
		rep.Runs += sr.Runs
		rep.FailedRuns += sr.FailedRuns
		for _, r := range sr.Results {
			if r.Stats != nil {
				rep.Virtual += r.Stats.Seconds
			}
		}
	}
	return rep
}

// ok reports whether the check passed: every scenario ran, none failed.
func (rep *checkReport) ok() bool { return rep.Failed == 0 && rep.Errors == 0 && !rep.Interrupted }

// timeName names the scenario's own time (Stats.Seconds):
// virtual time, unless the scenarios run on the wall clock.
func timeName(wallclock bool) string {
	if wallclock {
		return "time"
	}
	return "virtual"
}

// clockName names the clock the scenarios run on.
func clockName(wallclock bool) string {
	if wallclock {
		return "wall clock"
	}
	return "virtual time"
}

// tableRow is the format of a row of the table, the header included.
const tableRow = "%-*s  %-7s%s  %8s  %7s  %5s  %6s  %9s  %5s  %9s\n"

// write prints the report on w: as JSON, or as the table.
func (rep *checkReport) write(w io.Writer, jsonOut bool) error {
	if !jsonOut {
		rep.writeTable(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
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
	fmt.Fprintf(w, tableRow,
		nameW, "scenario", "verdict", failedCol, timeName(rep.WallClock), "wall", "peers", "rpcs", "bytes", "cmds", "evals")
	for _, sr := range rep.Scenarios {
		if many {
			failedCol = fmt.Sprintf("  %9s", fmt.Sprintf("%d/%d", sr.FailedRuns, sr.Runs))
		}
		virtual, wall := "-", "-"
		if v, ok := sr.statMedian(virtualOf); ok {
			virtual = fmt.Sprintf("%.1fs", v)
		}
		if v, ok := sr.wallMedian(); ok {
			wall = fmt.Sprintf("%.2fs", v)
		}
		fmt.Fprintf(w, tableRow,
			nameW, sr.Name, sr.shown(), failedCol, virtual, wall,
			sr.statCell(func(s *tests.Stats) int64 { return int64(s.Peers) }),
			sr.statCell(func(s *tests.Stats) int64 { return int64(s.RPCs) }),
			sr.statCell(func(s *tests.Stats) int64 { return s.Bytes }),
			sr.statCell(sr.cmdsOf),
			sr.statCell(func(s *tests.Stats) int64 { return s.Evals }))
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
	if rep.Errors > 0 {
		total += fmt.Sprintf(", %d unreadable", rep.Errors)
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
	fmt.Fprintf(w, "wall %.1fs (build %.1fs); scenarios' time %.1fs; %s; %s\n",
		rep.WallSeconds, rep.BuildSeconds, rep.Virtual, clockName(rep.WallClock), build)
}

// maxFailureLines bounds the lines of one failure shown in the report; the
// log file has the rest.
const maxFailureLines = 12

func (rep *checkReport) writeFailures(w io.Writer) {
	tags := "" // the build flags of the rerun command
	if rep.Tags != "" {
		tags = " -tags " + rep.Tags
	}
	if rep.Race {
		tags += " -race"
	}
	for _, sr := range rep.Scenarios {
		if sr.Verdict == verdictError {
			r := sr.firstError()
			fmt.Fprintf(w, "\n--- ERROR %s: run %d passed, but %s\n", sr.Name, r.Run, indent(r.StatsErr))
			rep.writeRerun(w, sr, r, tags)
			continue
		}
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
		rep.writeRerun(w, sr, r, tags)
	}
}

// writeRerun prints where a run's log is and the command that reruns it.
func (rep *checkReport) writeRerun(w io.Writer, sr *scenarioResult, r *runResult, tags string) {
	if r.Log != "" {
		fmt.Fprintf(w, "    log: %s\n", r.Log)
	}
	env := "" // the same random choices, if the run said its seed
	if r.Stats != nil && r.Stats.Seed != 0 {
		env = fmt.Sprintf("%s=%d ", tests.SeedEnv, r.Stats.Seed)
	}
	if rep.dir != "" {
		// The same check, from the raftspec checkout, with the flags that
		// change what runs.
		flags := ""
		if rep.Race {
			flags += " -race"
		}
		if rep.WallClock {
			flags += " -wallclock"
		}
		if rep.Tags == "" {
			flags += " -invariants=false"
		}
		fmt.Fprintf(w, "    rerun: %sgo run ./cmd/raftspec check%s -run '^%s$' -v %s   (the failure is in your code in %s)\n", env, flags, sr.Name, rep.dir, rep.dir)
		return
	}
	if rep.WallClock {
		env += "RAFTSPEC_WALLCLOCK=1 "
	}
	fmt.Fprintf(w, "    rerun: %sgo test%s -run '^Test%s$' -count 1 -v ./tests/\n", env, tags, sr.Name)
}

func indent(s string) string { return strings.ReplaceAll(s, "\n", "\n    ") }
