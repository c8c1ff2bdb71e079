package tests

import (
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// Scenario is one scenario of the suite: a lab test, by its lab name, or
// one of raftspec's own (Extra).
type Scenario struct {
	Name       string // the lab's name without the part: "Figure8"
	Part       string // "3A", "3B", "3C", "3D"
	Servers    int
	Unreliable bool // the network starts unreliable
	Snapshot   bool // the applier snapshots every 10 entries
	Extra      bool // raftspec's own scenario, not a lab test
	Run        func(c *Cluster)
}

// FullName is the lab's test name without "Test": "Figure83C".
func (s Scenario) FullName() string { return s.Name + s.Part }

// Scenarios is the suite, in the lab's order; raftspec's own scenarios
// (Extra) come last in their part.
func Scenarios() []Scenario {
	var all []Scenario
	all = append(all, scenarios3A...)
	all = append(all, scenarios3B...)
	all = append(all, scenarios3C...)
	all = append(all, scenarios3D...)
	return all
}

// Lookup returns the scenario with the given full name ("Figure83C").
func Lookup(fullName string) (Scenario, bool) {
	for _, s := range Scenarios() {
		if s.FullName() == fullName {
			return s, true
		}
	}
	return Scenario{}, false
}

// Options configures RunRaft and RunScenario. A nil *Options means the
// defaults.
type Options struct {
	// Run, if set, selects the scenarios whose full name ("Figure83C")
	// it matches.
	Run *regexp.Regexp
	// Parts, if set, selects the scenarios of these parts: "3A" to "3D"
	// for RunRaft, "4B" and "4C" for RunKV.
	Parts []string
	// Skip names the harness's own checks not to make (CheckInvariants,
	// CheckLinearizability); zero makes every check that applies. The
	// scenarios' checks (apply order and agreement, liveness bounds,
	// goroutine leaks after Kill) are always made.
	Skip Check
	// WallClock runs on the real clock instead of synctest's virtual
	// time. The environment variable RAFTSPEC_WALLCLOCK=1 sets it too.
	WallClock bool
	// Summary receives one line per scenario; nil means os.Stdout.
	Summary io.Writer
	// WallLimit is how long virtual time may stand still, by the real
	// clock, before a scenario is declared stalled; 0 means
	// DefaultWallLimit. See RunScenario.
	WallLimit time.Duration
	_         struct{}
}

// Check names a check the harness makes beside the scenarios' own.
type Check uint8

const (
	// CheckInvariants runs the invariants Observer: every property after
	// every transition of an implementation built with -tags invariants
	// (the reference), or after every delivered RPC for one that is
	// Inspectable.
	CheckInvariants Check = 1 << iota
	// CheckLinearizability checks every recorded client history with
	// porcupine.
	CheckLinearizability
)

// selects reports whether the options select the scenario with this full
// name and part.
func (o *Options) selects(fullName, part string) bool {
	if o == nil {
		return true
	}
	if o.Run != nil && !o.Run.MatchString(fullName) {
		return false
	}
	return len(o.Parts) == 0 || slices.Contains(o.Parts, part)
}

// skips reports whether the options skip check k.
func (o *Options) skips(k Check) bool { return o != nil && o.Skip&k != 0 }

// DefaultWallLimit is how long virtual time may stand still by the real
// clock. The reference never holds it for more than a fraction of a
// second, even under the race detector.
const DefaultWallLimit = 3 * time.Minute

func (o *Options) wallLimit() time.Duration {
	if o == nil || o.WallLimit <= 0 {
		return DefaultWallLimit
	}
	return o.WallLimit
}

func (o *Options) wallClock() bool {
	return (o != nil && o.WallClock) || os.Getenv("RAFTSPEC_WALLCLOCK") == "1"
}

func (o *Options) summary() io.Writer {
	if o == nil || o.Summary == nil {
		return os.Stdout
	}
	return o.Summary
}

// RunRaft runs every scenario of the suite against the implementation
// that mk makes, each as a subtest named after the lab's test
// ("Figure83C"), each against a fresh cluster.
//
// A pass is evidence, not proof: the scenarios are randomized. Run them
// with -count and -race. An implementation that busy-waits cannot run in
// virtual time; use RAFTSPEC_WALLCLOCK=1.
func RunRaft(t *testing.T, mk raftapi.MakeFunc, opts *Options) {
	for _, s := range Scenarios() {
		if !opts.selects(s.FullName(), s.Part) {
			continue
		}
		t.Run(s.FullName(), func(t *testing.T) { RunScenario(t, s, mk, opts) })
	}
}

// RunScenario runs one scenario against mk, in virtual time unless the
// options ask for the wall clock, and prints its summary line.
//
// In virtual time the clock advances only when every goroutine of the
// scenario is blocked. An implementation with a goroutine that never
// blocks (a busy loop, or a refused RPC retried at once) stops the clock,
// and the lab's 120 s limit can never fire. So a scenario still running
// after Options.WallLimit of real time ends the test binary with a panic
// that says so and lists the busiest goroutines.
func RunScenario(t *testing.T, s Scenario, mk raftapi.MakeFunc, opts *Options) {
	hs := histories{skip: opts.skips(CheckLinearizability)}
	began := time.Now() // outside the bubble: real time
	var st *Stats       // nil until the cluster's end
	// Deferred: a failed scenario leaves inTime by FailNow, and its
	// histories are checked all the same.
	defer func() {
		lin := hs.check(t)
		if lin != nil {
			fmt.Fprintf(opts.summary(), "  ... %s%s\n", s.FullName(), lin)
		}
		if st != nil {
			st.finish(t, opts.wallClock(), began, lin)
		}
	}()
	inTime(t, s.FullName(), opts, func(t *testing.T, clock *atomic.Int64) {
		c := NewCluster(t, mk, s.Servers, ClusterOptions{Unreliable: s.Unreliable, Snapshot: s.Snapshot,
			histories: &hs, clock: clock, noInvariants: opts.skips(CheckInvariants)})
		defer func() { st = c.end(s.FullName(), opts.summary()) }()
		s.Run(c)
	})
}

// inTime runs body in virtual time (a synctest bubble, watched by the
// wall-clock watchdog) unless the options ask for the wall clock. body's
// network writes the virtual time of every call into clock, so the
// watchdog can tell a clock that stopped from a scenario that is merely
// slow (a CPU-heavy implementation under the race detector).
func inTime(t *testing.T, name string, opts *Options, body func(t *testing.T, clock *atomic.Int64)) {
	var clock atomic.Int64
	if opts.wallClock() {
		body(t, &clock)
		return
	}
	limit := opts.wallLimit()
	var watchdog *time.Timer
	var mu sync.Mutex
	seen := clock.Load() // from the start: the first period counts too
	watchdog = time.AfterFunc(limit, func() {
		mu.Lock()
		defer mu.Unlock()
		if now := clock.Load(); now != seen {
			seen = now // virtual time moved: slow, not stalled
			watchdog.Reset(limit)
			return
		}
		stalled(name, limit)
	})
	defer func() {
		mu.Lock()
		defer mu.Unlock()
		watchdog.Stop()
	}()
	defer func() {
		// synctest panics when goroutines outlive the test function; the
		// cluster has already named them ("goroutine leak after Kill"), so
		// this is a failure of the scenario, not of the whole test binary.
		if r := recover(); r != nil {
			if err, ok := r.(error); ok && strings.Contains(err.Error(), "deadlock") {
				t.Errorf("goroutine leak after Kill (synctest: %v)", err)
				return
			}
			panic(r)
		}
	}()
	synctest.Test(t, func(t *testing.T) { body(t, &clock) })
}

// stalled reports a scenario whose virtual clock stopped, and ends the
// binary: its goroutines cannot be stopped from outside.
func stalled(name string, limit time.Duration) {
	counts := map[string]int{}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if m := goroutineHeader.FindStringSubmatch(g); m != nil && bubbleOf(m[2]) != "" {
			status := waitStatus(m[2])
			counts[fmt.Sprintf("[%s] %s", status, topFrames(g, 3))]++
		}
	}
	// The culprits are the goroutines that are not blocked: first.
	lines := slices.Collect(maps.Keys(counts))
	running := func(k string) bool { return strings.HasPrefix(k, "[runnable") || strings.HasPrefix(k, "[running") }
	slices.SortFunc(lines, func(a, b string) int {
		if ra, rb := running(a), running(b); ra != rb {
			if ra {
				return -1
			}
			return 1
		}
		return counts[b] - counts[a]
	})
	for i, k := range lines {
		lines[i] = fmt.Sprintf("%5d × %s", counts[k], k)
	}
	fmt.Fprintf(os.Stderr, "goroutines of the stalled scenario (not blocked first):\n%s\n", strings.Join(lines[:min(len(lines), 15)], "\n"))
	panic(fmt.Sprintf("raftspec: in %s, virtual time has not advanced for %v of real time: some goroutine never blocks "+
		"(a busy loop, or a refused RPC retried without a pause); run it on the wall clock (RAFTSPEC_WALLCLOCK=1; raftspec check -wallclock) to hold it to the lab's 120 s limit", name, limit))
}

// drainTime is how long the end of a scenario lets time run after killing
// every server: longer than any network delay (7 s), so every RPC still in
// flight returns and every goroutine that was going to end has ended.
const drainTime = 10 * time.Second

// end finishes a scenario: it kills every server, drains, reports leaked
// goroutines and invariant violations, prints the summary line and
// returns its figures.
func (c *Cluster) end(name string, w io.Writer) *Stats {
	elapsed := time.Since(c.begin)
	if elapsed > scenarioLimit {
		c.t.Errorf("test took longer than 120 seconds (%.1fs)", elapsed.Seconds())
	}
	c.err() // an invariant violation fails the test even if nothing checked
	for i := range c.n {
		c.Crash(i)
	}
	time.Sleep(drainTime)
	c.appliers.Wait()
	synctestWait()
	failedBefore := c.t.Failed()
	leaks := leaks(c.before)
	if len(leaks) > 0 {
		c.t.Errorf("goroutine leak after Kill: %d kinds of goroutine still alive %v after every server was killed (Kill must end every goroutine the peer started):\n\t%s",
			len(leaks), drainTime, strings.Join(leaks, "\n\t"))
	}
	st := &Stats{Scenario: name, Result: ResultOK, Seconds: elapsed.Seconds(), Peers: c.n, RPCs: c.RPCTotal(), Bytes: c.Bytes(),
		Cmds: c.MaxIndex(), Goroutines: c.net.PeakGoroutines(), Evals: c.obs.evaluations(), Seed: c.seed}
	st.setLeaks(leaks)
	switch {
	case len(leaks) > 0 && !failedBefore:
		st.Result = ResultLeak // correct as far as the checks saw, but Kill left goroutines running
	case c.t.Failed():
		st.Result = ResultFailed
	}
	if c.t.Failed() {
		c.t.Logf("seed %d: %s=%d repeats the harness's random choices (and the reference's election timeouts), not the goroutine interleavings", c.seed, SeedEnv, c.seed)
	}
	fmt.Fprintln(w, st.summaryLine())
	return st
}

// synctestWait waits for the bubble's other goroutines to block, when
// running in one.
func synctestWait() {
	if inBubble() {
		synctest.Wait()
	}
}

// inBubble reports whether the caller runs in a synctest bubble.
func inBubble() bool {
	self := make([]byte, 256)
	self = self[:runtime.Stack(self, false)]
	m := goroutineHeader.FindStringSubmatch(string(self))
	return m != nil && bubbleOf(m[2]) != ""
}
