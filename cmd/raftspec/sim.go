package main

// raftspec sim and raftspec stress -sim: the deterministic simulator of
// tests/sim from the command line. A run is a function of its seed and
// options, so one seed replays a failure exactly, with its event log.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/tests/sim"
)

func init() {
	commands["sim"] = command{
		summary: "run one seed of the deterministic simulator and print its event log",
		run:     runSim,
	}
}

// simFlags are the options of a simulated run that sim and stress -sim
// share; a replay command repeats them.
type simFlags struct {
	schedule string
	servers  int
	duration time.Duration
	events   int
	validate bool
}

func (f *simFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.schedule, "schedule", "churn", "fault schedule: "+strings.Join(sim.ScheduleNames(), ", "))
	fs.IntVar(&f.servers, "servers", 5, "servers in the cluster (1 to 9)")
	fs.DurationVar(&f.duration, "duration", time.Minute, "virtual time of the fault phase, before the network heals")
	fs.IntVar(&f.events, "events", 0, "end the fault phase after this many events (0: no limit)")
	fs.BoolVar(&f.validate, "validate", false, "check every step of every node against the executable spec, while the run stays within the spec's bounds (docs/simulation.md)")
}

// check refuses what sim.Options would read as "the default": an explicit
// -servers 0 or -duration 0 is a mistake, not a request for 5 servers or
// a minute.
func (f *simFlags) check() error {
	switch {
	case f.servers < 1:
		return fmt.Errorf("-servers must be at least 1, not %d", f.servers)
	case f.duration <= 0:
		return fmt.Errorf("-duration must be positive, not %v", f.duration)
	}
	return sim.CheckOptions(f.options(1))
}

func (f *simFlags) options(seed uint64) sim.Options {
	return sim.Options{Seed: seed, Schedule: f.schedule, Servers: f.servers, Duration: f.duration, Events: f.events, Validate: f.validate, Wrap: simWrapForTest}
}

// simWrapForTest, if set, wraps every node of every run: the tests plant
// bugs with it.
var simWrapForTest func(id int, c sim.Core) sim.Core

const simUsage = `usage: raftspec sim [-seed S] [-schedule NAME] [-servers N] [-duration D] [-events K] [-validate] [-o FILE]

Runs the reference core under the deterministic simulator (tests/sim) for
one seed and prints its event log: one line per event, in virtual time.
The same seed and flags print the same log, byte for byte, so a failure
that raftspec stress -sim found replays here. Pipe the log into raftspec
logs for one column per server. A summary goes to stderr.
Exit status: 0 if the run passed its checks, 1 if one failed, 2 for bad
usage.

Build with -tags invariants (go run -tags invariants ./cmd/raftspec sim)
to check every property of Figure 3 after every transition; without it the
simulator's own checks still run.

schedules:
%s
flags:
`

func scheduleDocs() string {
	var b strings.Builder
	for _, name := range sim.ScheduleNames() {
		fmt.Fprintf(&b, "  %-18s %s\n", name, sim.ScheduleDoc(name))
	}
	return b.String()
}

func runSim(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, simUsage, scheduleDocs())
		fs.PrintDefaults()
	}
	var f simFlags
	f.register(fs)
	seed := fs.Uint64("seed", 1, "the run's seed")
	out := fs.String("o", "", "write the event log to this file instead of stdout")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := failer(stderr, "raftspec sim")
	if fs.NArg() > 0 {
		return fail(2, "unexpected arguments %q (flags only)", fs.Args())
	}
	if err := f.check(); err != nil {
		return fail(2, "%v", err)
	}
	opts := f.options(*seed)
	w := stdout
	if *out != "" {
		file, err := os.Create(*out)
		if err != nil {
			return fail(2, "%v", err)
		}
		defer file.Close()
		w = file
	}
	opts.Log = w
	begin := time.Now()
	r, err := sim.Run(opts)
	if err != nil {
		return fail(2, "%v", err)
	}
	fmt.Fprintf(stderr, "seed %d, schedule %s, %d servers: %d events, %.1fs virtual, %d commands, %d crashes, %v wall; %s\n",
		*seed, r.Options.Schedule, r.Options.Servers, r.Events, r.Virtual.Seconds(), r.Commands, r.Crashes,
		time.Since(begin).Round(time.Millisecond), invariantsNote())
	if opts.Validate {
		fmt.Fprintf(stderr, "trace validation: %s\n", r.Trace)
	}
	if r.Err != nil {
		fmt.Fprintf(stderr, "FAIL %v\n", r.Err)
		return 1
	}
	fmt.Fprintln(stderr, "PASS")
	return 0
}

func invariantsNote() string {
	if raft.InvariantsOn {
		return "invariants on"
	}
	return "invariants off (build with -tags invariants to check every property after every transition)"
}

// simStress is stress -sim: seeds [first, first+n) of one schedule, run
// in-process by p workers.
type simStress struct {
	flags simFlags
	first uint64
	n, p  int
	out   string // where failed seeds' event logs go; "": a new temporary directory
	log   io.Writer
	bar   *progressbar.ProgressBar
	// failfast stops at the first failed seed (cancel stops the feed).
	failfast bool
	cancel   func()

	mu      sync.Mutex
	done    int
	failed  int
	events  int64
	virtual time.Duration
	outDir  string
	// with -validate: steps validated, and runs that left the spec's bounds
	steps, outOfBounds int
}

func runStressSim(cfg stressConfig, stdout, stderr io.Writer) int {
	s := &simStress{flags: cfg.sim, first: cfg.seed, n: cfg.n, p: cfg.p, out: cfg.out, log: stderr}
	s.failfast = cfg.failfast
	if err := s.flags.check(); err != nil {
		return failer(stderr, "raftspec stress")(2, "%v", err)
	}
	if s.n > 1 && s.first > math.MaxUint64-uint64(s.n-1) {
		return failer(stderr, "raftspec stress")(2, "-seed %d -n %d: the seeds would pass 2^64-1", s.first, s.n)
	}
	sig, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-sig.Done()
		stop() // a second Ctrl-C ends the process at once
	}()
	ctx, cancel := context.WithCancel(sig)
	s.cancel = cancel
	defer s.cancel()
	s.bar = progressBar(stderr, cfg.n, "seeds")
	fmt.Fprintf(stderr, "raftspec stress -sim: seeds %d..%d of schedule %s, %d servers, %v of faults, %d workers; %s\n",
		s.first, s.first+uint64(s.n)-1, s.flags.schedule, s.flags.servers, s.flags.duration, s.p, invariantsNote())
	begin := time.Now()
	s.run(ctx)
	if s.bar != nil {
		s.bar.Finish()
	}
	wall := time.Since(begin)
	stopped := ""
	switch {
	case s.done == s.n:
	case s.failfast && s.failed > 0:
		stopped = "stopped at the first failure"
	case ctx.Err() != nil:
		stopped = "interrupted"
	}
	s.summary(stdout, wall, stopped)
	if s.failed > 0 || stopped == "interrupted" {
		return 1 // a failure, or no verdict
	}
	return 0
}

func (s *simStress) run(ctx context.Context) {
	seeds := make(chan uint64)
	var wg sync.WaitGroup
	for range s.p {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seed := range seeds {
				if ctx.Err() != nil {
					continue // stopped (-failfast, Ctrl-C): a seed handed out just before is not run
				}
				s.one(ctx, seed)
			}
		}()
	}
feed:
	for k := range s.n {
		select {
		case seeds <- s.first + uint64(k):
		case <-ctx.Done():
			break feed
		}
	}
	close(seeds)
	wg.Wait()
}

// one runs a seed; a failure is run again with its event log saved, which
// also checks that it replays.
func (s *simStress) one(ctx context.Context, seed uint64) {
	opts := s.flags.options(seed)
	opts.Context = ctx
	r, _ := sim.Run(opts) // the options were checked before
	if r.Stopped {
		return // cut short: neither passed nor failed
	}
	var report string
	if r.Err != nil {
		s.mu.Lock()
		s.failed++
		k := s.failed
		s.mu.Unlock()
		if k <= keepLogs {
			report = s.replay(opts, r.Err)
		} else {
			report = fmt.Sprintf("FAIL seed %d at event %d: %v\n", seed, r.Err.Event, firstLine([]string{r.Err.Err.Error()}))
		}
		if s.failfast {
			s.cancel()
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done++
	s.events += int64(r.Events)
	s.virtual += r.Virtual
	s.steps += r.Trace.Steps
	if r.Trace.Why != "" {
		s.outOfBounds++
	}
	if s.bar != nil {
		s.bar.Add(1)
	}
	if r.Err == nil {
		return
	}
	if s.bar != nil {
		s.bar.Clear()
	}
	fmt.Fprint(s.log, report)
}

// keepLogs is how many failed seeds stress -sim runs again to save their
// event logs; later failures get one line each.
const keepLogs = 10

// replay runs a failed seed again with its event log going to a file, and
// says what failed, how to replay it and where the log is.
func (s *simStress) replay(opts sim.Options, first *sim.Failure) string {
	msg := fmt.Sprintf("FAIL seed %d at event %d: %v\n    replay: %s | go run ./cmd/raftspec logs\n",
		opts.Seed, first.Event, first.Err, first.Replay)
	path, err := s.logPath(opts.Seed)
	if err != nil {
		return msg + fmt.Sprintf("    log: not saved: %v\n", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return msg + fmt.Sprintf("    log: not saved: %v\n", err)
	}
	opts.Log, opts.Context = f, nil // a replay runs to its end, whatever stops the others
	again, werr := sim.Run(opts)
	if cerr := f.Close(); werr == nil && cerr != nil {
		werr = cerr
	}
	msg += fmt.Sprintf("    log: %s\n", path)
	if werr != nil {
		msg += fmt.Sprintf("    (the log is incomplete: %v)\n", werr)
	}
	if again.Err == nil || again.Err.Event != first.Event || again.Err.Err.Error() != first.Err.Error() {
		msg += fmt.Sprintf("    NOT REPLAYED: the run with a log ended differently (%v): the simulator is not deterministic here, a bug in raftspec\n", again.Err)
	}
	return msg
}

func (s *simStress) logPath(seed uint64) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.outDir == "" {
		dir, err := outputDir(s.out, "raftspec-sim-")
		if err != nil {
			return "", err
		}
		s.outDir = dir
	}
	return filepath.Join(s.outDir, fmt.Sprintf("seed-%d.log", seed)), nil
}

func (s *simStress) summary(w io.Writer, wall time.Duration, stopped string) {
	ratio := s.virtual.Seconds() / wall.Seconds()
	workers := min(s.p, max(s.done, 1)) // no more workers ran than seeds
	fmt.Fprintf(w, "seeds %d, failed %d; simulated %.0fs in %d events; wall %.1fs; simulated/real %.0f:1 (%.0f:1 per worker)",
		s.done, s.failed, s.virtual.Seconds(), s.events, wall.Seconds(), ratio, ratio/float64(workers))
	if stopped != "" {
		fmt.Fprintf(w, " (%s: %d seeds not run)", stopped, s.n-s.done)
	}
	fmt.Fprintln(w)
	if s.flags.validate {
		fmt.Fprintf(w, "trace validation: %d steps validated; %d of %d runs left the spec's bounds before they ended (validated up to there)\n", s.steps, s.outOfBounds, s.done)
	}
	if s.outDir != "" {
		fmt.Fprintf(w, "event logs of failed seeds: %s\n", s.outDir)
	}
}
