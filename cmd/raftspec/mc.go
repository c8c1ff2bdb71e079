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

// maxWorkers bounds -workers: more goroutines than that only contend for
// the fingerprint set's 256 shards, and a larger count is likely a typo.
const maxWorkers = 256

// mcFlags are the values of raftspec mc's flags.
type mcFlags struct {
	cfg        spec.Config
	bug        string
	workers    int
	maxStates  int64
	maxDepth   int
	timeout    time.Duration
	progress   time.Duration
	jsonOut    bool
	noSymmetry bool
}

// newMCFlags returns raftspec mc's flag set, which parses into f.
func newMCFlags(stderr io.Writer) (fs *flag.FlagSet, f *mcFlags) {
	fs = flag.NewFlagSet("raftspec mc", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f = &mcFlags{}
	cfg := &f.cfg
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
	fs.BoolVar(&f.noSymmetry, "nosym", false, "no symmetry reduction")
	fs.BoolVar(&cfg.NoHistory, "nohistory", false, "no history variables (ElectionSafety among current leaders only; LeaderCompleteness from commitIndexes)")
	fs.BoolVar(&cfg.Figure3Only, "figure3only", false, "check only the properties of package invariants, not the spec's own (CommittedPrefix, ElectableCompleteness)")
	fs.BoolVar(&cfg.FingerprintDeadVars, "fingerprint-dead-vars", false, "keep dead variables (a non-candidate's vote tallies, a non-leader's nextIndex/matchIndex) in the fingerprint")
	fs.StringVar(&f.bug, "bug", "none", "planted bug: "+strings.Join(spec.BugNames(), ", "))
	fs.IntVar(&f.workers, "workers", 0, fmt.Sprintf("goroutines expanding states (0 = GOMAXPROCS; at most %d)", maxWorkers))
	fs.Int64Var(&f.maxStates, "max-states", 0, "stop after this many distinct states (0 = no limit)")
	fs.IntVar(&f.maxDepth, "max-depth", 0, "do not expand states at this depth (0 = no limit)")
	fs.DurationVar(&f.timeout, "timeout", 0, "stop after this long (0 = no limit)")
	fs.DurationVar(&f.progress, "progress", 2*time.Second, "progress line interval on stderr (0 = none)")
	fs.BoolVar(&f.jsonOut, "json", false, "print the result (and any counterexample) as JSON")
	return fs, f
}

// config is the model's configuration the flags give, with the defaults
// filled in.
func (f *mcFlags) config() (spec.Config, error) {
	cfg := f.cfg
	b, err := spec.ParseBug(f.bug)
	if err != nil {
		return cfg, fmt.Errorf("-bug: %v", err)
	}
	cfg.Bug = b
	cfg.Symmetry = !f.noSymmetry
	if cfg.MaxInFlight == 0 {
		return cfg, errors.New("-maxinflight 0 would allow no request; use -1 for no bound")
	}
	return cfg, cfg.Validate()
}

// check reports a flag outside the model's configuration that is out of
// range.
func (f *mcFlags) check() error {
	switch {
	case f.workers < 0 || f.workers > maxWorkers:
		return fmt.Errorf("-workers %d: want 0 (GOMAXPROCS) to %d", f.workers, maxWorkers)
	case f.maxStates < 0 || f.maxDepth < 0 || f.timeout < 0 || f.progress < 0:
		return errors.New("-max-states, -max-depth, -timeout and -progress must not be negative")
	}
	return nil
}

func runMC(args []string, stdout, stderr io.Writer) int {
	fs, f := newMCFlags(stderr)
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
	cfg, err := f.config()
	if err == nil {
		err = f.check()
	}
	if err != nil {
		fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
		return 2
	}
	m, err := spec.NewModel(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec mc: %v\n", err)
		return 2
	}
	cfg = m.Config()
	opt := mc.Options{Workers: f.workers, MaxStates: f.maxStates, MaxDepth: f.maxDepth, Timeout: f.timeout}
	if f.progress > 0 {
		opt.Progress, opt.ProgressEvery = stderr, f.progress
	}
	if !f.jsonOut {
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
	if f.jsonOut {
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
		fmt.Fprintf(stdout, "%s: %d distinct states, %d generated, depth %d, %.2fs (%.0f states/s, %s)",
			out.Verdict, out.Distinct, out.Generated, out.Depth, out.Seconds, out.PerSecond, plural(out.Workers, "worker"))
		if res.Stopped != "" && res.Stopped != "violation" {
			fmt.Fprintf(stdout, "; stopped: %s", res.Stopped)
		}
		fmt.Fprintln(stdout)
	}
	if res.Violation != nil {
		return 1
	}
	if !f.jsonOut && cfg.Bug != spec.BugNone {
		for _, pb := range spec.PlantedBugs() {
			if pb.Bug == cfg.Bug {
				fmt.Fprintf(stdout, "note: bug %s was not found within these bounds; it breaks %s in %d steps with: raftspec mc %s (docs/spec.md)\n",
					pb.Bug, pb.Property, pb.Steps, bugFlags(pb))
			}
		}
	}
	return 0
}

// bugFlags are the flags of raftspec mc that give pb's configuration:
// -bug, the bounds on terms, logs and links, then any other flag that
// differs from its default.
func bugFlags(pb spec.PlantedBug) string {
	want := pb.Config
	_, f := newMCFlags(io.Discard)
	f.bug = want.Bug.String()
	def, err := f.config()
	if err == nil {
		err = want.Validate()
	}
	if err != nil {
		panic(fmt.Sprintf("planted bug %s: %v", pb.Bug, err)) // the rows of spec.PlantedBugs are valid
	}
	args := []string{"-bug", want.Bug.String()}
	for _, o := range []struct {
		name     string
		got, def int
		bound    bool // always given
	}{
		{"servers", want.Servers, def.Servers, false}, {"values", want.Values, def.Values, false},
		{"maxterm", want.MaxTerm, def.MaxTerm, true}, {"maxlog", want.MaxLog, def.MaxLog, true},
		{"maxcopies", want.MaxCopies, def.MaxCopies, false}, {"maxinflight", want.MaxInFlight, def.MaxInFlight, true},
	} {
		if o.bound || o.got != o.def {
			args = append(args, fmt.Sprintf("-%s %d", o.name, o.got))
		}
	}
	for _, o := range []struct {
		name     string
		got, def bool
	}{
		{"restart", want.Restart, def.Restart}, {"duplicate", want.Duplicate, def.Duplicate}, {"drop", want.Drop, def.Drop},
		{"fastbackup", want.FastBackup, def.FastBackup}, {"selfvote-msg", want.SelfVoteMessage, def.SelfVoteMessage},
		{"nosym", !want.Symmetry, !def.Symmetry}, {"nohistory", want.NoHistory, def.NoHistory},
		{"figure3only", want.Figure3Only, def.Figure3Only}, {"fingerprint-dead-vars", want.FingerprintDeadVars, def.FingerprintDeadVars},
	} {
		switch {
		case o.got && !o.def:
			args = append(args, "-"+o.name)
		case !o.got && o.def:
			args = append(args, "-"+o.name+"=false")
		}
	}
	return strings.Join(args, " ")
}

// plural is "1 worker", "2 workers".
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
