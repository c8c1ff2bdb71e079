package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeRuns is a runOnceFunc whose k-th run (1-based, per test) of a test
// fails when fail says so.
type fakeRuns struct {
	mu    sync.Mutex
	calls map[string]int
	fail  func(test string, k int) bool
	after func(total int) // called after each run with the number made so far
	total int
}

func (f *fakeRuns) run(ctx context.Context, test string) ([]byte, error) {
	f.mu.Lock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[test]++
	k := f.calls[test]
	f.total++
	total := f.total
	f.mu.Unlock()
	if f.after != nil {
		defer f.after(total)
	}
	if f.fail != nil && f.fail(test, k) {
		return []byte("=== RUN   " + test + "\n    cluster.go:42: apply error: planted in run " + strconv.Itoa(k) + "\n--- FAIL: " + test + "\n"), errors.New("exit status 1")
	}
	return []byte("=== RUN   " + test + "\n--- PASS: " + test + "\n"), nil
}

func TestStressTallies(t *testing.T) {
	f := &fakeRuns{fail: func(test string, k int) bool { return test == "TestB3A" && k == 3 }}
	var log bytes.Buffer
	s := &stresser{cfg: stressConfig{n: 5, p: 2, out: t.TempDir()}, tests: []string{"TestA3A", "TestB3A"}, runOne: f.run, log: &log}
	rows := s.run(context.Background())
	if len(rows) != 2 || rows[0].test != "TestA3A" || rows[1].test != "TestB3A" {
		t.Fatalf("rows = %+v, want TestA3A then TestB3A", rows)
	}
	if rows[0].failed != 0 || rows[0].total() != 5 || rows[1].failed != 1 || rows[1].total() != 5 {
		t.Errorf("tally = %d/%d, %d/%d; want 0/5 and 1/5", rows[0].failed, rows[0].total(), rows[1].failed, rows[1].total())
	}
	// The third call of TestB3A fails; with two workers it may carry run
	// number 3 or 4 (runs are numbered as handed out, called as workers
	// take them), so the log says which, and that run's file holds it.
	m := regexp.MustCompile(`FAIL TestB3A run (\d+) \(`).FindStringSubmatch(log.String())
	if m == nil || !strings.Contains(log.String(), "apply error: planted in run 3") {
		t.Fatalf("log does not name the failed run and what failed:\n%s", log.String())
	}
	saved, err := os.ReadFile(filepath.Join(s.outDir, "TestB3A-"+m[1]+".log"))
	if err != nil || !strings.Contains(string(saved), "planted in run 3") {
		t.Errorf("the failed run's output was not saved (%v): %q", err, saved)
	}
	var table bytes.Buffer
	writeStressTable(&table, rows)
	for _, want := range []string{"Test     Failed  Total  Time", "TestA3A  0       5", "TestB3A  1       5"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
}

// An interrupt stops handing out runs; the table covers what ran, and a
// run cut short counts neither as passed nor as failed.
func TestStressInterruptKeepsPartialTally(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	f := &fakeRuns{after: func(total int) {
		if total == 4 {
			cancel()
		}
	}}
	s := &stresser{cfg: stressConfig{n: 100, p: 1}, tests: []string{"TestA3A", "TestB3A"}, runOne: f.run, log: &bytes.Buffer{}}
	rows := s.run(ctx)
	done := rows[0].total() + rows[1].total()
	if done != 3 {
		// The fourth run ends after the interrupt: not counted.
		t.Errorf("runs counted after an interrupt at the 4th = %d, want 3", done)
	}
	if rows[0].total() == 0 || rows[1].total() == 0 {
		t.Errorf("runs are not interleaved over the tests: %d and %d", rows[0].total(), rows[1].total())
	}
}

func TestStressMeanSD(t *testing.T) {
	r := &stressRow{times: []time.Duration{2 * time.Second, 4 * time.Second, 4 * time.Second, 4 * time.Second, 5 * time.Second, 5 * time.Second, 7 * time.Second, 9 * time.Second}}
	mean, sd := r.meanSD()
	if mean != 5*time.Second {
		t.Errorf("mean = %v, want 5s", mean)
	}
	if got := sd.Seconds(); got < 2.13 || got > 2.14 { // sample sd: sqrt(32/7)
		t.Errorf("sd = %v, want 2.138s", sd)
	}
	if m, sd := (&stressRow{}).meanSD(); m != 0 || sd != 0 {
		t.Errorf("no runs: %v ± %v, want 0 ± 0", m, sd)
	}
}

func TestStressUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "-run is required"},
		{[]string{"-run", "X", "-n", "0"}, "-n must be at least 1"},
		{[]string{"-run", "X", "-p", "-1"}, "-p must be at least 1"},
		{[]string{"-run", "X", "-timeout", "0s"}, "-timeout must be positive"},
		{[]string{"-run", "("}, "-run \"(\""},
		{[]string{"-run", "X", "extra"}, "unexpected arguments"},
		{[]string{"-nosuchflag"}, "flag provided but not defined"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(append([]string{"stress"}, c.args...), &stdout, &stderr); code != 2 {
			t.Errorf("stress %q = %d, want 2", c.args, code)
		}
		if !strings.Contains(stderr.String(), c.want) {
			t.Errorf("stress %q: stderr %q lacks %q", c.args, stderr.String(), c.want)
		}
	}
	var stdout, stderr bytes.Buffer
	if code := run([]string{"stress", "-h"}, &stdout, &stderr); code != 0 || !strings.Contains(stderr.String(), "usage: raftspec stress -run PATTERN") {
		t.Errorf("stress -h = %d, %q", code, stderr.String())
	}
}

func TestStressEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the tests package")
	}
	var stdout, stderr bytes.Buffer
	args := []string{"stress", "-run", "^TestInitialElection3A$", "-n", "2", "-p", "2", "-invariants=false"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("raftspec %q = %d; stderr:\n%s\nstdout:\n%s", args, code, stderr.String(), stdout.String())
	}
	if !strings.Contains(stdout.String(), "TestInitialElection3A  0       2") || !strings.Contains(stdout.String(), "2 runs, 0 failed") {
		t.Errorf("table:\n%s", stdout.String())
	}
	args = []string{"stress", "-run", "^NoSuchTest$"}
	stderr.Reset()
	if code := run(args, &stdout, &stderr); code != 2 || !strings.Contains(stderr.String(), "matches no Go test") {
		t.Errorf("raftspec %q = %d, stderr %q; want 2 and 'matches no Go test'", args, code, stderr.String())
	}
}
