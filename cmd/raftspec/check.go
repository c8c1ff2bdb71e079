package main

// raftspec check: the lab-style scenario suite against the reference.
//
// A scenario needs a *testing.T and runs inside testing/synctest, so check
// does not call the suite in-process. It builds the tests package's test
// binary once (go test -c), then runs that binary once per scenario with
// -test.run '^TestX$' -test.v=test2json, its output piped through go tool
// test2json, and decodes the JSON events as they stream: the "pass",
// "fail" and "skip" events give the verdict and wall time, the scenario's
// "attr" event tests.StatsAttr gives its figures (a tests.Stats), and the
// output text gives the failure (the test's log lines, and any panic).
// One process per scenario keeps a crash (a panic, a timeout) to the
// scenario that caused it: the rest still run.
//
// This file has the flags, the build and the command; checkrun.go runs the
// scenarios, checkevents.go reads their events, checkreport.go reports.

import (
	"context"
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
	verdictLeak = "LEAK" // shown for a FAIL whose only failure is goroutines left after Kill
	verdictSkip = "SKIP"
	// A run passed, but its figures (tests.Stats) are missing or
	// unreadable: a fault of the harness or of the stream, not of the Raft.
	verdictError = "ERROR"
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
	dir        string        // check DIR: the student's lab package; "": the reference
	lab        *labPackage   // check DIR: what detectLab found
	labArgs    []string      // check DIR: -modfile, -overlay, -vet=off
}

// buildArgs are the arguments of go test -c after -c: the build flags
// and the package.
func (cfg checkConfig) buildArgs() []string {
	var f []string
	if cfg.race {
		f = append(f, "-race")
	}
	if cfg.invariants {
		f = append(f, "-tags", "invariants")
	}
	if cfg.lab != nil {
		rel, _ := filepath.Rel(cfg.lab.ModRoot, cfg.lab.Dir)
		return append(append(cfg.labArgs, f...), "./"+filepath.ToSlash(rel))
	}
	return append(f, "./tests/")
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
		fmt.Fprintln(w, "usage: raftspec check [flags] [DIR]")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "With DIR (a lab Raft package, e.g. ~/6.5840/src/raft1), runs the Raft")
		fmt.Fprintln(w, "scenarios (3A-3D) against the student's Raft in DIR instead, without")
		fmt.Fprintln(w, "writing into that tree (temporary go.mod and overlay; see checkdir.go).")
		fmt.Fprintln(w)
		fmt.Fprintln(w, "Builds the tests package's test binary and runs the lab-style scenario suite")
		fmt.Fprintln(w, "against the reference Raft, one scenario at a time. Progress goes to stderr;")
		fmt.Fprintln(w, "the table (or -json) goes to stdout. Run it inside the raftspec checkout.")
		fmt.Fprintln(w, "Each scenario runs in its own process; check reads its results as go test -json")
		fmt.Fprintln(w, "events (go tool test2json): the verdict from the pass/fail events, the figures")
		fmt.Fprintln(w, "from the scenario's raftspec-stats attribute (one line of JSON; see tests.Stats).")
		fmt.Fprintln(w, "Verdicts: PASS; FAIL, with the failing checks, the saved log and a rerun")
		fmt.Fprintln(w, "command; SKIP; ERROR, a run that passed but whose figures are missing or")
		fmt.Fprintln(w, "unreadable.")
		fmt.Fprintln(w, "Exit status: 0 every scenario passed, 1 a scenario failed or was ERROR (or the")
		fmt.Fprintln(w, "suite did not build), 2 bad usage.")
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
	if fs.NArg() > 1 {
		return bad("unexpected argument %q (one lab package directory at most; select scenarios with -run)", fs.Arg(1))
	}
	cfg.dir = fs.Arg(0)
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
// that runs it against the reference (tests/entrypoints_test.go, generated).
type checkScenario struct {
	Name string // "Figure83C"
	Part string // "3C"
}

func (s checkScenario) test() string { return "Test" + s.Name }

// suite is every scenario check runs: the Raft scenarios (3A–3D), then
// the key/value ones (4B, 4C), in the lab's order.
func suite() []checkScenario {
	var all []checkScenario
	for _, s := range tests.Scenarios() {
		all = append(all, checkScenario{Name: s.FullName(), Part: s.Part})
	}
	for _, s := range tests.KVScenarios() {
		all = append(all, checkScenario{Name: s.FullName(), Part: s.Part})
	}
	return all
}

// selectScenarios returns the scenarios of all that re selects (all when
// re is nil), in order. A name matches with or without its "Test"
// prefix, so a -run copied from go test works too.
func selectScenarios(all []checkScenario, re *regexp.Regexp) []checkScenario {
	var sel []checkScenario
	for _, s := range all {
		if re == nil || re.MatchString(s.Name) || re.MatchString("Test"+s.Name) {
			sel = append(sel, s)
		}
	}
	return sel
}

// runCheck is the check subcommand.
func runCheck(args []string, stdout, stderr io.Writer) int {
	start := time.Now()
	cfg, code, ok := parseCheckFlags(args, stderr)
	if !ok {
		return code
	}
	fail := failer(stderr, "raftspec check")
	if os.Getenv("RAFTSPEC_WALLCLOCK") == "1" {
		cfg.wallclock = true // the test binary inherits it
	}
	all := suite()
	if cfg.dir != "" {
		all = raftOnly(all)
	}
	scenarios := selectScenarios(all, cfg.run)
	if len(scenarios) == 0 && cfg.run == nil {
		return fail(1, "the suite has no scenarios")
	}
	if len(scenarios) == 0 {
		var names []string
		for _, s := range suite() {
			names = append(names, s.Name)
		}
		return fail(2, "-run %q matches no scenario; the scenarios are:\n  %s", cfg.run, strings.Join(names, " "))
	}
	goCmd, root, err := goAndRoot()
	if err != nil && goCmd != "" && cfg.dir != "" {
		root, err = ourModuleRoot(goCmd)
	}
	if err != nil {
		return fail(2, "%v", err)
	}
	testsDir := filepath.Join(root, "tests")
	if cfg.dir != "" {
		lb, err := cfg.prepareDir(root)
		if err != nil {
			return fail(2, "%v", err)
		}
		defer os.RemoveAll(lb.TmpDir)
		root, testsDir = cfg.lab.ModRoot, cfg.lab.Dir
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	buildStart := time.Now()
	bin, remove, ok := buildSuite(ctx, goCmd, root, cfg, stderr,
		fmt.Sprintf("raftspec check: %d scenario(s) x %d, %s", len(scenarios), cfg.count, clockName(cfg.wallclock)))
	if !ok {
		return 1
	}
	defer remove()
	buildTime := time.Since(buildStart)
	t2j, err := findTest2json(ctx, goCmd)
	if err != nil {
		return fail(1, "%v (check reads the test binary's results through it)", err)
	}

	env := os.Environ()
	if cfg.wallclock {
		env = append(env, "RAFTSPEC_WALLCLOCK=1")
	}
	tb := &testBinary{path: bin, dir: testsDir, env: env, timeout: cfg.timeout, test2json: t2j}
	if cfg.verbose {
		tb.raw = stderr
	}
	have, err := tb.list(ctx)
	if err != nil {
		return fail(1, "listing the suite's tests: %v", err)
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
	if err := rep.write(stdout, cfg.jsonOut); err != nil {
		return fail(1, "%v", err)
	}
	if !rep.ok() {
		return 1
	}
	return 0
}

// buildSuite builds the tests package's test binary (or check DIR's) in
// a new temporary directory, after a line on stderr that starts with
// heading and gives the build command. It returns the binary's path and
// the function that removes the directory. If the build fails, it says
// why on stderr and returns false.
func buildSuite(ctx context.Context, goCmd, root string, cfg checkConfig, stderr io.Writer, heading string) (bin string, remove func(), ok bool) {
	tmp, err := os.MkdirTemp("", "raftspec-build-")
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", heading, err)
		return "", nil, false
	}
	remove = func() { os.RemoveAll(tmp) }
	args := append([]string{"test", "-c", "-o", filepath.Join(tmp, "tests.test")}, cfg.buildArgs()...)
	if runtime.GOOS == "windows" {
		args[3] += ".exe"
	}
	fmt.Fprintf(stderr, "%s; building: %s\n", heading, strings.Join(append([]string{"go test -c"}, cfg.buildArgs()...), " "))
	build := exec.CommandContext(ctx, goCmd, args...)
	build.Dir = root
	out, err := build.CombinedOutput()
	if err != nil {
		remove()
		name, _, _ := strings.Cut(heading, ":")
		fmt.Fprintf(stderr, "%s: the suite did not build (%v):\n%s", name, err, out)
		if cfg.invariants {
			fmt.Fprintln(stderr, "(-invariants=false builds without the invariant hooks)")
		}
		return "", nil, false
	}
	if cfg.verbose {
		stderr.Write(out)
	}
	return args[3], remove, true
}

// failer returns the error reporter of a subcommand: it prints the
// message under heading and returns the exit code.
func failer(stderr io.Writer, heading string) func(code int, format string, a ...any) int {
	return func(code int, format string, a ...any) int {
		fmt.Fprintf(stderr, heading+": "+format+"\n", a...)
		return code
	}
}

// goAndRoot finds the go command and this module's root from the working
// directory. goCmd is "" if there is no go command.
func goAndRoot() (goCmd, root string, err error) {
	goCmd, err = exec.LookPath("go")
	if err != nil {
		return "", "", fmt.Errorf("the go command is needed to build the suite: %v", err)
	}
	root, err = moduleRoot(goCmd, "")
	return goCmd, root, err
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
