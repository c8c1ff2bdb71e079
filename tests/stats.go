package tests

import (
	"encoding/json"
	"fmt"
	"testing"
	"time"
	"unicode/utf8"
)

// StatsAttr is the key of the test attribute (testing.T.Attr) that
// carries the figures of a scenario as one line of JSON, a Stats, emitted
// once as the scenario ends, after its summary line. go test -json shows
// it as the event
//
//	{"Action":"attr","Test":"TestFigure83C","Key":"raftspec-stats","Value":"{\"version\":1,...}"}
//
// and go test -v as the line "=== ATTR  TestFigure83C raftspec-stats {...}".
// raftspec check reads it instead of the summary line, which is for people.
// A scenario that never reached its end (a panic, a timeout, a fatal
// error in the cluster's set-up) emits none.
const StatsAttr = "raftspec-stats"

// StatsVersion is the Version of the Stats this harness emits. Fields may
// be added without changing it; it changes if one changes meaning.
const StatsVersion = 1

// Results of a scenario in its Stats (the summary line's Passed, FAILED,
// LEAK).
const (
	ResultOK     = "ok"
	ResultFailed = "failed"
	ResultLeak   = "leak" // every check passed, but Kill left goroutines running (the test fails)
)

// Stats are the figures of one run of a scenario: what its summary line
// prints, and more.
type Stats struct {
	Version     int     `json:"version"`      // StatsVersion
	Scenario    string  `json:"scenario"`     // the full name: "Figure83C"
	Result      string  `json:"result"`       // ResultOK, ResultFailed or ResultLeak, linearizability included
	Clock       string  `json:"clock"`        // "virtual" (synctest), or "wall" (RAFTSPEC_WALLCLOCK=1)
	Seconds     float64 `json:"seconds"`      // the scenario's time on its clock (the summary line's "time")
	WallSeconds float64 `json:"wall_seconds"` // real time, from the scenario's start to the end of its checks
	Peers       int     `json:"peers"`
	RPCs        int     `json:"rpcs"`       // every Call the network saw, to crashed and cut-off peers too
	Bytes       int64   `json:"bytes"`      // gob bytes of the RPCs' arguments and replies
	Cmds        int     `json:"cmds"`       // the highest log index any server applied
	Ops         int     `json:"ops"`        // KV scenarios: client operations completed; 0 for Raft ones
	Goroutines  int     `json:"goroutines"` // the peak of the scenario's goroutines
	Evals       int64   `json:"evals"`      // invariant evaluations (0: no invariants observed)
	Seed        uint64  `json:"seed"`       // the cluster's seed: RAFTSPEC_SEED repeats its random choices
	// LeakKinds counts the kinds of goroutine alive 10 s after every
	// server was killed; Leaks lists the first maxStatsLeaks of them
	// (each "N × [status] function (file:line) ← ...", cut to
	// maxStatsLeakLen bytes). The test's log has them all.
	LeakKinds int       `json:"leak_kinds,omitempty"`
	Leaks     []string  `json:"leaks,omitempty"`
	Lin       *LinStats `json:"lin,omitempty"` // the linearizability check of the recorded histories, if any
}

// LinStats summarise the linearizability check of a scenario's histories.
type LinStats struct {
	Histories      int     `json:"histories"`
	LargestOps     int     `json:"largest_ops"`
	SlowestSeconds float64 `json:"slowest_seconds"` // the slowest porcupine check, real time
	Skipped        bool    `json:"skipped,omitempty"`

	slowest time.Duration
}

// String is the summary line's text for the check: "  lin 2 histories, ...".
func (l *LinStats) String() string {
	if l == nil {
		return ""
	}
	if l.Skipped {
		return fmt.Sprintf("  lin %d histories not checked (skipped)", l.Histories)
	}
	return fmt.Sprintf("  lin %d histories, largest %d ops, slowest %v", l.Histories, l.LargestOps, l.slowest.Round(time.Microsecond))
}

// Bounds that keep the attribute's line short: go tool test2json reads
// lines of up to 4 KiB, and splits a longer one into plain output.
const (
	maxStatsLeaks   = 8
	maxStatsLeakLen = 200
	maxStatsLen     = 3500
)

// setLeaks records the leaks, bounded.
func (st *Stats) setLeaks(leaks []string) {
	st.LeakKinds = len(leaks)
	st.Leaks = nil
	for _, l := range leaks[:min(len(leaks), maxStatsLeaks)] {
		if len(l) > maxStatsLeakLen {
			n := maxStatsLeakLen - len("…")
			for n > 0 && !utf8.RuneStart(l[n]) {
				n--
			}
			l = l[:n] + "…"
		}
		st.Leaks = append(st.Leaks, l)
	}
}

// finish completes the figures once the scenario and its checks are
// over, and emits them as the test attribute StatsAttr.
func (st *Stats) finish(t *testing.T, wallClock bool, began time.Time, lin *LinStats) {
	st.Version = StatsVersion
	st.Clock = "virtual"
	if wallClock {
		st.Clock = "wall"
	}
	st.WallSeconds = time.Since(began).Seconds()
	st.Lin = lin
	if st.Result == ResultOK && t.Failed() {
		st.Result = ResultFailed // the linearizability check, or a failure after the summary line
	}
	t.Attr(StatsAttr, st.encode())
}

// encode is the one-line JSON of st, within maxStatsLen bytes: the leaks'
// text goes first if need be (their count stays).
func (st *Stats) encode() string {
	b, _ := json.Marshal(st) // cannot fail: plain fields
	if len(b) > maxStatsLen {
		short := *st
		short.Leaks = nil
		b, _ = json.Marshal(&short)
	}
	return string(b)
}

// summaryVerdicts are the words of the summary line for each result.
var summaryVerdicts = map[string]string{ResultOK: "Passed", ResultFailed: "FAILED", ResultLeak: "LEAK"}

// summaryLine is the line printed for people at the end of a scenario
// (the histories' check, which comes later, is printed after it).
func (st *Stats) summaryLine() string {
	return fmt.Sprintf("  ... %s -- %-20s time %5.1fs  peers %d  rpcs %6d  bytes %9d  cmds %5d  goroutines %4d  evals %9d",
		summaryVerdicts[st.Result], st.Scenario, st.Seconds, st.Peers, st.RPCs, st.Bytes, st.Cmds, st.Goroutines, st.Evals)
}
