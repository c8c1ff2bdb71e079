package main

// raftspec stress -run: the lab's "run it 1,000 times" in minutes. The
// tests package's test binary is built once; the chosen tests run n times
// each, interleaved, p processes at a time; the output of every failed run
// is kept; a table says how often each failed.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

func init() {
	commands["stress"] = command{
		summary: "run chosen scenarios, or simulator seeds, many times in parallel; tally the failures",
		run:     runStress,
	}
}

// stressConfig is what the flags of stress ask for.
type stressConfig struct {
	run        *regexp.Regexp
	n, p       int
	race       bool
	invariants bool
	timeout    time.Duration // per run
	out        string        // where failed runs' output goes; "": a new temporary directory

	// -sim: seeds of the deterministic simulator instead of test runs.
	useSim   bool
	seed     uint64 // the first seed
	sim      simFlags
	failfast bool // stop at the first failed seed
}

const stressUsage = `usage: raftspec stress -run PATTERN [-n N] [-p P] [-race] [-invariants=false] [-timeout D] [-o DIR]
       raftspec stress -sim [-n N] [-p P] [-seed S] [-schedule NAME] [-servers N] [-duration D] [-events K] [-validate] [-failfast] [-o DIR]

With -run, it builds the test binary of the tests package once, then runs every Go test
whose name PATTERN matches (as go test -run does: "Figure8Unreliable" selects
TestFigure8Unreliable3C) N times, one process per run, P at a time, with the
tests interleaved. The output of every failed run is saved to a file; the
table gives, per test, the failed and total runs and the wall time of a run
(mean ± standard deviation). Ctrl-C stops and prints the table so far.

Run it inside the raftspec checkout. A failed run's saved output has what
failed and, for an invariant, the transcript that led to it.

With -sim, it runs seeds S to S+N-1 of the deterministic simulator
(tests/sim: the reference core, a virtual clock, one PRNG per seed) under
a fault schedule, P seeds at a time in this process, and prints how much
virtual time that was and how fast. For each of the first 10 failed seeds
it prints what failed and the command that replays it (raftspec sim -seed
...), and saves its event log; later ones get a line each. -failfast stops
at the first failure. Build it with -tags invariants to check every property
after every transition: go run -tags invariants ./cmd/raftspec stress -sim.
Ctrl-C stops the seeds in flight and prints the summary so far; a second
Ctrl-C ends the process at once.

Exit status: 0 if every run passed, 1 if one failed or Ctrl-C stopped the
runs (no verdict), 2 for bad usage.

Schedules:
%s
flags:
`

func parseStressFlags(args []string, stderr io.Writer) (cfg stressConfig, code int, ok bool) {
	fs := flag.NewFlagSet("stress", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, stressUsage, scheduleDocs())
		fs.PrintDefaults()
	}
	run := fs.String("run", "", "regular expression selecting the Go tests of ./tests to run (required)")
	fs.IntVar(&cfg.n, "n", 10, "runs of each test")
	fs.IntVar(&cfg.p, "p", runtime.GOMAXPROCS(0), "runs at a time (processes)")
	fs.BoolVar(&cfg.race, "race", false, "build with the race detector")
	fs.BoolVar(&cfg.invariants, "invariants", true, "build with -tags invariants (every property after every transition)")
	fs.DurationVar(&cfg.timeout, "timeout", 10*time.Minute, "limit of one run; a run over it fails with the goroutine dump of go test -timeout")
	fs.StringVar(&cfg.out, "o", "", "directory for the output of failed runs (default: a new temporary directory)")
	fs.BoolVar(&cfg.useSim, "sim", false, "run seeds of the deterministic simulator instead of Go tests")
	fs.Uint64Var(&cfg.seed, "seed", 1, "with -sim: the first seed")
	fs.BoolVar(&cfg.failfast, "failfast", false, "with -sim: stop at the first failed seed")
	cfg.sim.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return cfg, 0, false
		}
		return cfg, 2, false
	}
	bad := func(format string, a ...any) (stressConfig, int, bool) {
		fmt.Fprintf(stderr, "raftspec stress: "+format+"\n", a...)
		return cfg, 2, false
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	for _, name := range []string{"seed", "schedule", "servers", "duration", "events", "validate", "failfast"} {
		if set[name] && !cfg.useSim {
			return bad("-%s is a flag of -sim", name)
		}
	}
	for _, name := range []string{"run", "race", "invariants", "timeout"} {
		if set[name] && cfg.useSim {
			return bad("-%s is not a flag of -sim (build raftspec with -tags invariants for the invariants)", name)
		}
	}
	switch {
	case fs.NArg() > 0:
		return bad("unexpected arguments %q (flags only)", fs.Args())
	case cfg.useSim && cfg.n >= 1 && cfg.p >= 1:
		return cfg, 0, true
	case *run == "" && !cfg.useSim:
		return bad("-run is required: which tests to stress, e.g. -run Figure8Unreliable")
	case cfg.n < 1:
		return bad("-n must be at least 1, not %d", cfg.n)
	case cfg.p < 1:
		return bad("-p must be at least 1, not %d", cfg.p)
	case cfg.timeout <= 0:
		return bad("-timeout must be positive, not %v", cfg.timeout)
	}
	re, err := regexp.Compile(*run)
	if err != nil {
		return bad("-run %q: %v", *run, err)
	}
	cfg.run = re
	return cfg, 0, true
}

func runStress(args []string, stdout, stderr io.Writer) int {
	cfg, code, ok := parseStressFlags(args, stderr)
	if !ok {
		return code
	}
	if cfg.useSim {
		return runStressSim(cfg, stdout, stderr)
	}
	fail := failer(stderr, "raftspec stress")
	goCmd, root, err := goAndRoot()
	if err != nil {
		return fail(2, "%v", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	build := checkConfig{race: cfg.race, invariants: cfg.invariants}
	bin, remove, ok := buildSuite(ctx, goCmd, root, build, stderr, "raftspec stress")
	if !ok {
		return 1
	}
	defer remove()
	tb := &testBinary{path: bin, dir: filepath.Join(root, "tests"), env: os.Environ()}
	have, err := tb.list(ctx)
	if err != nil {
		return fail(1, "listing the suite's tests: %v", err)
	}
	var names []string
	for name := range have {
		if cfg.run.MatchString(name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	if len(names) == 0 {
		return fail(2, "-run %q matches no Go test of ./tests", cfg.run)
	}
	s := &stresser{cfg: cfg, tests: names, runOne: tb.runOnce(cfg.timeout), log: stderr}
	s.bar = progressBar(stderr, len(names)*cfg.n, "runs")
	fmt.Fprintf(stderr, "raftspec stress: %d test(s) x %d runs, %d at a time\n", len(names), cfg.n, cfg.p)
	start := time.Now()
	rows := s.run(ctx)
	if s.bar != nil {
		s.bar.Finish()
	}
	writeStressTable(stdout, rows)
	done, failed := 0, 0
	for _, r := range rows {
		done += r.total()
		failed += r.failed
	}
	fmt.Fprintf(stdout, "%d runs, %d failed, in %v", done, failed, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		fmt.Fprintf(stdout, " (interrupted: %d runs not made)", len(names)*cfg.n-done)
	}
	fmt.Fprintln(stdout)
	if s.outDir != "" {
		fmt.Fprintf(stdout, "output of failed runs: %s\n", s.outDir)
	}
	if failed > 0 || ctx.Err() != nil {
		return 1 // a failure, or no verdict
	}
	return 0
}

// progressBar is a bar of total steps on w if w is a terminal, else nil
// (no bar: a log or a pipe gets only the failures and the summary).
func progressBar(w io.Writer, total int, what string) *progressbar.ProgressBar {
	if f, isFile := w.(*os.File); !isFile || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish())
}

// outputDir makes the directory failures are saved in: dir if given (-o),
// else a new temporary one named with prefix.
func outputDir(dir, prefix string) (string, error) {
	if dir == "" {
		return os.MkdirTemp("", prefix)
	}
	return dir, os.MkdirAll(dir, 0o755)
}

// runOnceFunc runs one test once and returns its output, and an error if it
// failed (or could not run).
type runOnceFunc func(ctx context.Context, test string) ([]byte, error)

// runOnce runs one test of the binary once, with the test binary's own
// timeout (which fails it with every goroutine's stack).
func (b *testBinary) runOnce(timeout time.Duration) runOnceFunc {
	return func(ctx context.Context, test string) ([]byte, error) {
		cmd := exec.CommandContext(ctx, b.path, "-test.run=^"+regexp.QuoteMeta(test)+"$",
			"-test.v", "-test.count=1", "-test.timeout="+timeout.String())
		cmd.Dir, cmd.Env = b.dir, b.env
		cmd.WaitDelay = 5 * time.Second
		return cmd.CombinedOutput()
	}
}

// stresser runs the tests and keeps the tally.
type stresser struct {
	cfg    stressConfig
	tests  []string
	runOne runOnceFunc
	log    io.Writer                // a line per failed run
	bar    *progressbar.ProgressBar // nil: no progress bar (not a terminal)

	mu     sync.Mutex
	rows   map[string]*stressRow
	outDir string // made at the first failure
}

// stressRow is the tally of one test.
type stressRow struct {
	test   string
	failed int
	times  []time.Duration // of every run that ended
}

func (r *stressRow) total() int { return len(r.times) }

// meanSD is the mean and the sample standard deviation of the run times.
func (r *stressRow) meanSD() (mean, sd time.Duration) {
	n := float64(len(r.times))
	if n == 0 {
		return 0, 0
	}
	var sum float64
	for _, d := range r.times {
		sum += float64(d)
	}
	m := sum / n
	if n < 2 {
		return time.Duration(m), 0
	}
	var sq float64
	for _, d := range r.times {
		sq += (float64(d) - m) * (float64(d) - m)
	}
	return time.Duration(m), time.Duration(math.Sqrt(sq / (n - 1)))
}

// run makes every run and returns the rows in the order of s.tests. Runs
// are handed out round-robin over the tests, so every test gets its share
// early and an interrupt leaves a table that covers them all.
func (s *stresser) run(ctx context.Context) []*stressRow {
	s.rows = map[string]*stressRow{}
	for _, t := range s.tests {
		s.rows[t] = &stressRow{test: t}
	}
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range s.cfg.p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				s.one(ctx, j)
			}
		}()
	}
feed:
	for i := range s.cfg.n {
		for _, t := range s.tests {
			select {
			case jobs <- job{test: t, run: i + 1}:
			case <-ctx.Done():
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	rows := make([]*stressRow, len(s.tests))
	for i, t := range s.tests {
		rows[i] = s.rows[t]
	}
	return rows
}

type job struct {
	test string
	run  int // 1-based, per test
}

// one makes one run and records it. A run cut short by an interrupt is not
// counted: it neither passed nor failed.
func (s *stresser) one(ctx context.Context, j job) {
	if ctx.Err() != nil {
		return
	}
	begin := time.Now()
	out, err := s.runOne(ctx, j.test)
	took := time.Since(begin)
	if ctx.Err() != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row := s.rows[j.test]
	row.times = append(row.times, took)
	if s.bar != nil {
		s.bar.Add(1)
	}
	if err == nil {
		return
	}
	row.failed++
	path, saveErr := s.save(j, out, err)
	if saveErr != nil {
		path = "(not saved: " + saveErr.Error() + ")"
	}
	if s.bar != nil {
		s.bar.Clear()
	}
	fmt.Fprintf(s.log, "FAIL %s run %d (%v): %s\n    %s\n", j.test, j.run, took.Round(time.Millisecond), path, firstFailure(out, err))
}

// save writes the output of a failed run to the output directory, made at
// the first failure, and returns the file's path.
func (s *stresser) save(j job, out []byte, runErr error) (string, error) {
	if s.outDir == "" {
		dir, err := outputDir(s.cfg.out, "raftspec-stress-")
		if err != nil {
			return "", err
		}
		s.outDir = dir
	}
	path := filepath.Join(s.outDir, j.test+"-"+strconv.Itoa(j.run)+".log")
	data := append(slices.Clip(out), fmt.Sprintf("\nraftspec stress: run %d of %s: %v\n", j.run, j.test, runErr)...)
	return path, os.WriteFile(path, data, 0o644)
}

// firstFailure is the line of a failed run's output that says what failed:
// the first line a test reported an error on, else the last line.
func firstFailure(out []byte, err error) string {
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "panic:") || (strings.Contains(t, ".go:") && !strings.HasPrefix(t, "---") && !strings.HasPrefix(t, "===")) {
			return t
		}
	}
	if len(lines) > 0 && strings.TrimSpace(lines[len(lines)-1]) != "" {
		return strings.TrimSpace(lines[len(lines)-1])
	}
	return err.Error()
}

func writeStressTable(w io.Writer, rows []*stressRow) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "Test\tFailed\tTotal\tTime")
	for _, r := range rows {
		mean, sd := r.meanSD()
		tm := "-"
		if r.total() > 0 {
			tm = fmt.Sprintf("%.2fs ± %.2fs", mean.Seconds(), sd.Seconds())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", r.test, r.failed, r.total(), tm)
	}
	tw.Flush()
}
