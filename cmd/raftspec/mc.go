package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/raftspec/raftspec/spec"
	"github.com/raftspec/raftspec/spec/mc"
)

func init() {
	commands["mc"] = command{summary: "model-check the executable spec within bounds", run: runMC}
}

// mcResult is the summary -json prints (with the counterexample, if any).
type mcResult struct {
	Config    string          `json:"config"`
	Verdict   string          `json:"verdict"` // "ok", "violation", "incomplete"
	Complete  bool            `json:"complete"`
	Stopped   string          `json:"stopped,omitempty"`
	Distinct  int64           `json:"distinct"`
	Generated int64           `json:"generated"`
	Depth     int             `json:"depth"`
	Seconds   float64         `json:"seconds"`
	PerSecond float64         `json:"statesPerSecond"`
	Workers   int             `json:"workers"`
	Trace     *spec.JSONTrace `json:"trace,omitempty"`
}

func runMC(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raftspec mc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg        spec.Config
		bug        string
		workers    int
		maxStates  int64
		maxDepth   int
		timeout    time.Duration
		progress   time.Duration
		jsonOut    bool
		noSymmetry bool
	)
	fs.IntVar(&cfg.Servers, "servers", 3, "number of servers (1..5)")
	fs.IntVar(&cfg.Values, "values", 1, "number of client values")
	fs.IntVar(&cfg.MaxTerm, "maxterm", 2, "highest term (Timeout is disabled at it)")
	fs.IntVar(&cfg.MaxLog, "maxlog", 2, "longest log (ClientRequest is disabled at it)")
	fs.IntVar(&cfg.MaxCopies, "maxcopies", 1, "most copies of one message in the network")
	fs.IntVar(&cfg.MaxInFlight, "maxinflight", 2, "a request is sent only while fewer messages than this are in the network between its two servers; -1 = no bound, as raft.tla")
	fs.BoolVar(&cfg.Restart, "restart", false, "enable Restart")
	fs.BoolVar(&cfg.Duplicate, "duplicate", false, "enable DuplicateMessage")
	fs.BoolVar(&cfg.Drop, "drop", false, "enable DropMessage")
	fs.BoolVar(&cfg.FastBackup, "fastbackup", false, "AppendEntries rejections carry ConflictTerm/ConflictIndex")
	fs.BoolVar(&cfg.SelfVoteMessage, "selfvote-msg", false, "candidates vote for themselves by message, as raft.tla (default: in Timeout, as the reference core)")
	fs.BoolVar(&noSymmetry, "nosym", false, "no symmetry reduction")
	fs.BoolVar(&cfg.NoHistory, "nohistory", false, "no history variables (ElectionSafety among current leaders only; LeaderCompleteness from commitIndexes)")
	fs.BoolVar(&cfg.Figure3Only, "figure3only", false, "check only the properties of package invariants, not the spec's own (CommittedPrefix, ElectableCompleteness)")
	fs.BoolVar(&cfg.FingerprintDeadVars, "fingerprint-dead-vars", false, "keep dead variables (a non-candidate's vote tallies, a non-leader's nextIndex/matchIndex) in the fingerprint")
	fs.StringVar(&bug, "bug", "none", "planted bug: "+strings.Join(spec.BugNames(), ", "))
	fs.IntVar(&workers, "workers", 0, "goroutines expanding states (0 = GOMAXPROCS)")
	fs.Int64Var(&maxStates, "max-states", 0, "stop after this many distinct states (0 = no limit)")
	fs.IntVar(&maxDepth, "max-depth", 0, "do not expand states at this depth (0 = no limit)")
	fs.DurationVar(&timeout, "timeout", 0, "stop after this long (0 = no limit)")
	fs.DurationVar(&progress, "progress", 2*time.Second, "progress line interval on stderr (0 = none)")
	fs.BoolVar(&jsonOut, "json", false, "print the result (and any counterexample) as JSON")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftspec mc [flags]")
		fmt.Fprintln(stderr, "Explores every state of the spec within the bounds, breadth-first, and checks the properties of")
		fmt.Fprintln(stderr, "package invariants in each; a violation prints a shortest trace to it. Exit 0: no violation")
		fmt.Fprintln(stderr, "(incomplete if a limit stopped the search), 1: violation, 2: bad usage or unrepresentable bounds.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "raftspec mc: unexpected arguments %q\n", fs.Args())
		return 2
	}
	b, err := spec.ParseBug(bug)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec mc: -bug: %v\n", err)
		return 2
	}
	cfg.Bug = b
	cfg.Symmetry = !noSymmetry
	if cfg.MaxInFlight == 0 {
		fmt.Fprintln(stderr, "raftspec mc: -maxinflight 0 would allow no request; use -1 for no bound")
		return 2
	}
	switch {
	case workers < 0:
		fmt.Fprintf(stderr, "raftspec mc: -workers %d: want ≥ 0\n", workers)
		return 2
	case maxStates < 0 || maxDepth < 0 || timeout < 0 || progress < 0:
		fmt.Fprintln(stderr, "raftspec mc: -max-states, -max-depth, -timeout and -progress must not be negative")
		return 2
	}
	m, err := spec.NewModel(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
		return 2
	}
	cfg = m.Config()
	opt := mc.Options{Workers: workers, MaxStates: maxStates, MaxDepth: maxDepth, Timeout: timeout}
	if progress > 0 {
		opt.Progress, opt.ProgressEvery = stderr, progress
	}
	if !jsonOut {
		fmt.Fprintf(stdout, "raftspec mc: %s\n", cfg)
	}
	res, err := mc.Run[spec.State, spec.Action](m, opt)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
		return 2
	}
	out := mcResult{
		Config: cfg.String(), Complete: res.Complete, Stopped: res.Stopped,
		Distinct: res.Distinct, Generated: res.Generated, Depth: res.Depth,
		Seconds: res.Elapsed.Seconds(), PerSecond: res.PerSecond(), Workers: res.Workers,
	}
	switch {
	case res.Violation != nil:
		out.Verdict = "violation"
	case res.Complete:
		out.Verdict = "ok"
	default:
		out.Verdict = "incomplete"
	}
	if jsonOut {
		if res.Violation != nil {
			out.Trace = m.JSON(res.Violation)
		}
		e := json.NewEncoder(stdout)
		e.SetIndent("", "  ")
		if err := e.Encode(out); err != nil {
			fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
			return 2
		}
	} else {
		if res.Violation != nil {
			if err := m.WriteTrace(stdout, res.Violation); err != nil {
				fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
				return 2
			}
		}
		fmt.Fprintf(stdout, "%s: %d distinct states, %d generated, depth %d, %.2fs (%.0f states/s, %d workers)",
			out.Verdict, out.Distinct, out.Generated, out.Depth, out.Seconds, out.PerSecond, out.Workers)
		if res.Stopped != "" && res.Stopped != "violation" {
			fmt.Fprintf(stdout, "; stopped: %s", res.Stopped)
		}
		fmt.Fprintln(stdout)
	}
	if res.Violation != nil {
		return 1
	}
	if hint, ok := bugBounds[cfg.Bug]; ok && !jsonOut {
		fmt.Fprintf(stdout, "note: bug %s was not found within these bounds; it is with %s (docs/spec.md)\n", cfg.Bug, hint)
	}
	return 0
}

// bugBounds are the bounds within which each planted bug is found (the
// rows of TestPlantedBugs), for a run that planted one and found nothing.
var bugBounds = map[spec.Bug]string{
	spec.BugFigure8:        "-maxterm 4 -maxlog 1 -maxinflight 1",
	spec.BugVoteNoUpToDate: "-maxterm 3 -maxlog 1 -maxinflight 1",
	spec.BugForgetVote:     "-maxterm 2 -maxlog 0 -maxinflight 1",
	spec.BugNoPrevLogCheck: "-maxterm 4 -maxlog 2 -maxinflight 1",
	spec.BugFastBackupSkip: "-maxterm 3 -maxlog 2 -maxinflight 1",
}
