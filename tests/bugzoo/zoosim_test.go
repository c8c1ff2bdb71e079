package bugzoo_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/raftspec/raftspec/tests/bugzoo"
)

// simSeeds is how many seeds of its schedule the simulator gets to find a
// mutant (the bound), simDuration the fault phase of each.
const (
	simSeeds    = 1000
	simDuration = "20s"
)

var (
	simFail   = regexp.MustCompile(`(?m)^FAIL seed (\d+) at event (\d+): (.*)$`)
	simReplay = regexp.MustCompile(`(?m)^\s+replay: go run -tags invariants \./cmd/raftspec (sim .*?) \| go run`)
	simSumm   = regexp.MustCompile(`(?m)^seeds (\d+), failed (\d+);`)
)

// TestZooUnderSim runs each mutant whose header names a simulator
// schedule (Sim:) under the deterministic simulator: it builds raftspec
// with the patch (-overlay, -tags invariants), runs raftspec stress -sim
// over seeds 1..1000 of that schedule until the first failure, requires
// one, and replays the failed seed with raftspec sim, which must fail at
// the same event with the same error. It prints mutant → schedule →
// seed → what failed.
//
// Like TestBugZoo it builds a binary per mutant, so -short and the race
// detector build skip it.
func TestZooUnderSim(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("the bug zoo is built and run without -short and without -race")
	}
	ms := chosen(slices.DeleteFunc(load(t), func(m *bugzoo.Mutant) bool { return m.Fields["Sim"] == "" }))
	if len(ms) == 0 && os.Getenv("RAFTSPEC_ZOO") == "" {
		t.Fatal("no mutant of the zoo names a simulator schedule (Sim:)")
	}
	type found struct {
		name, schedule, seed, what string
		took                       time.Duration
		err                        error
	}
	results := make([]found, len(ms))
	eachMutant(ms, func(k int, m *bugzoo.Mutant) {
		r := &results[k]
		r.name, r.schedule = strings.TrimSuffix(m.File, ".patch"), m.Fields["Sim"]
		t0 := time.Now()
		r.seed, r.what, r.err = simulateMutant(m, mutantDir(t))
		r.took = time.Since(t0)
	})
	var b strings.Builder
	fmt.Fprintf(&b, "%-34s %-18s %5s %6s  %s\n", "mutant", "schedule", "seed", "s", "found")
	for _, r := range results {
		what := r.what
		if r.err != nil {
			what = "NOT FOUND: " + r.err.Error()
		}
		fmt.Fprintf(&b, "%-34s %-18s %5s %6.1f  %.110s\n", r.name, r.schedule, r.seed, r.took.Seconds(), what)
	}
	t.Logf("\n%s", b.String())
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
		}
	}
}

// simulateMutant builds raftspec with m applied, finds a failing seed of
// m's schedule and replays it. It returns the seed and the failure.
func simulateMutant(m *bugzoo.Mutant, dir string) (seed, what string, err error) {
	ovl, err := apply(m, dir)
	if err != nil {
		return "", "", err
	}
	bin := filepath.Join(dir, "raftspec")
	build := []string{"build", "-o", bin, "-overlay", ovl, "-tags", "invariants", "../../cmd/raftspec"}
	if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
		return "", "", fmt.Errorf("go %s: %v\n%s", strings.Join(build, " "), err, out)
	}
	args := []string{"stress", "-sim", "-failfast", "-n", fmt.Sprint(simSeeds), "-p", fmt.Sprint(parallel),
		"-schedule", m.Fields["Sim"], "-duration", simDuration, "-o", filepath.Join(dir, "logs")}
	cmd := exec.Command(bin, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	f := simFail.FindStringSubmatch(stderr.String())
	switch {
	case err == nil:
		return "", "", fmt.Errorf("raftspec %s: %s seeds passed", strings.Join(args, " "), strings.TrimSpace(stdout.String()))
	case f == nil:
		return "", "", fmt.Errorf("raftspec %s: %v, and no failed seed in its output:\n%s%s", strings.Join(args, " "), err, stdout.String(), tail(stderr.String(), 20))
	}
	seed, event, what := f[1], f[2], f[3]
	if s := simSumm.FindStringSubmatch(stdout.String()); s == nil || s[2] == "0" {
		return seed, what, fmt.Errorf("the summary does not count the failure: %q", stdout.String())
	}
	rp := simReplay.FindStringSubmatch(stderr.String())
	if rp == nil {
		return seed, what, fmt.Errorf("no replay command for seed %s:\n%s", seed, tail(stderr.String(), 20))
	}
	replay := exec.Command(bin, strings.Fields(rp[1])...)
	var rout strings.Builder
	replay.Stdout, replay.Stderr = io.Discard, &rout
	rerr := replay.Run()
	want := fmt.Sprintf("FAIL seed %s schedule %s: event %s (", seed, m.Fields["Sim"], event) // the replay has a log: the event's line follows
	if rerr == nil || !strings.Contains(rout.String(), want) || !strings.Contains(rout.String(), what) {
		return seed, what, fmt.Errorf("the replay %q did not fail the same way (want %q and %q):\n%s", rp[1], want, what, tail(rout.String(), 20))
	}
	return seed, what, nil
}
