package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/tests/sim"
)

// raftspec sim prints the event log of a seed: the same log twice, and a
// summary that says it passed.
func TestSimCommand(t *testing.T) {
	args := []string{"sim", "-seed", "4", "-schedule", "figure8", "-servers", "3", "-duration", "5s"}
	var out1, out2, errs bytes.Buffer
	if code := run(args, &out1, &errs); code != 0 {
		t.Fatalf("exit %d: %s", code, errs.String())
	}
	if code := run(args, &out2, &bytes.Buffer{}); code != 0 || !bytes.Equal(out1.Bytes(), out2.Bytes()) {
		t.Fatalf("exit %d; the same seed printed different logs", code)
	}
	if !strings.Contains(errs.String(), "seed 4, schedule figure8, 3 servers") || !strings.HasSuffix(errs.String(), "PASS\n") {
		t.Errorf("summary = %q", errs.String())
	}
	if !strings.Contains(out1.String(), " leader term ") {
		t.Errorf("the log has no election:\n%.2000s", out1.String())
	}
	path := filepath.Join(t.TempDir(), "log")
	if code := run(append(args, "-o", path), &bytes.Buffer{}, &bytes.Buffer{}); code != 0 {
		t.Fatalf("-o: exit %d", code)
	}
	if data, _ := os.ReadFile(path); !bytes.Equal(data, out1.Bytes()) {
		t.Errorf("-o wrote %d bytes, want the %d of stdout", len(data), out1.Len())
	}
}

func TestSimAndStressSimUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"sim", "-servers", "12"}, "servers must be in [1, 9]"},
		{[]string{"sim", "-servers", "0"}, "-servers must be at least 1, not 0"},
		{[]string{"sim", "-duration", "0s"}, "-duration must be positive"},
		{[]string{"stress", "-sim", "-duration", "-1s"}, "-duration must be positive"},
		{[]string{"sim", "-schedule", "nosuch"}, `unknown schedule "nosuch"`},
		{[]string{"sim", "extra"}, "flags only"},
		{[]string{"sim", "-seed", "x"}, "invalid value"},
		{[]string{"stress", "-sim", "-run", "Figure8"}, "-run is not a flag of -sim"},
		{[]string{"stress", "-sim", "-race"}, "-race is not a flag of -sim"},
		{[]string{"stress", "-run", "Figure8", "-schedule", "churn"}, "-schedule is a flag of -sim"},
		{[]string{"stress", "-sim", "-n", "0"}, "-n must be at least 1"},
		{[]string{"stress", "-sim", "-schedule", "nosuch"}, `unknown schedule "nosuch"`},
		{[]string{"logs", "-topic", "gossip"}, `unknown topic "gossip"`},
		{[]string{"logs", "-width", "3"}, "-width must be in [8, 500]"},
		{[]string{"logs", "-width", "100000000"}, "-width must be in [8, 500]"},
		{[]string{"logs", "/no/such/file"}, "no such file"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		if code != 2 || !strings.Contains(stderr.String(), tc.want) {
			t.Errorf("%q: exit %d, stderr %q; want 2 and %q", tc.args, code, stderr.String(), tc.want)
		}
	}
}

// stress -sim runs the seeds and sums them up; it passes on the reference.
func TestStressSim(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"stress", "-sim", "-n", "20", "-p", "2", "-seed", "100", "-schedule", "churn", "-duration", "10s"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	re := regexp.MustCompile(`^seeds 20, failed 0; simulated (\d+)s in (\d+) events; wall [0-9.]+s; simulated/real \d+:1 \(\d+:1 per worker\)\n$`)
	m := re.FindStringSubmatch(stdout.String())
	if m == nil {
		t.Fatalf("summary = %q", stdout.String())
	}
	if m[1] == "0" || m[2] == "0" {
		t.Errorf("no virtual time or no events: %q", stdout.String())
	}
	if !strings.Contains(stderr.String(), "seeds 100..119 of schedule churn") {
		t.Errorf("stderr = %q", stderr.String())
	}
}

// lazy is a planted bug: a node that refuses every command, so the
// liveness phase never sees one committed.
type lazy struct{ sim.Core }

func (lazy) Propose(any) (int, int, bool) { return -1, 0, false }

// A failed seed is reported with its replay command and its saved event
// log, and it replays.
func TestStressSimReportsFailures(t *testing.T) {
	dir := t.TempDir()
	var stdout, stderr bytes.Buffer
	simWrapForTest = func(_ int, c sim.Core) sim.Core { return lazy{c} }
	defer func() { simWrapForTest = nil }()
	code := run([]string{"stress", "-sim", "-n", "3", "-p", "1", "-schedule", "calm", "-duration", "2s", "-o", dir}, &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s\n%s", code, stdout.String(), stderr.String())
	}
	if !strings.HasPrefix(stdout.String(), "seeds 3, failed 3;") {
		t.Errorf("summary = %q", stdout.String())
	}
	replay := "replay: go run ./cmd/raftspec sim -seed 1 -schedule calm" // built as this test is
	if raft.InvariantsOn {
		replay = "replay: go run -tags invariants ./cmd/raftspec sim -seed 1 -schedule calm"
	}
	for _, want := range []string{"FAIL seed 1 at event", "Liveness", replay, "log: " + filepath.Join(dir, "seed-1.log")} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr.String())
		}
	}
	if strings.Contains(stderr.String(), "NOT REPLAYED") {
		t.Errorf("a failure did not replay:\n%s", stderr.String())
	}
	data, err := os.ReadFile(filepath.Join(dir, "seed-1.log"))
	if err != nil || !strings.Contains(string(data), " heal ") {
		t.Errorf("saved log: %v, %d bytes", err, len(data))
	}
}

// logs lays the log out one column per server and filters by topic.
func TestLogs(t *testing.T) {
	in := strings.Join([]string{
		"     0.343248 n1 election candidate term 1",
		"     0.344568 n2 election recv RequestVote n1→n2 term 1 last 0/0",
		"     0.400000 n0 commit   commit 0 → 1",
		"    60.000000 -- net      heal the network is reliable and whole",
	}, "\n") + "\n"
	path := filepath.Join(t.TempDir(), "log")
	os.WriteFile(path, []byte(in), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"logs", "-topic", "election,net", "-width", "12", path}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	want := "" +
		"        time  n0            n1            n2\n" +
		"    0.343248                candidate t…\n" +
		"    0.344568                              recv Reques…\n" +
		"   60.000000  == heal the network is reliable and whole\n"
	if stdout.String() != want {
		t.Errorf("got\n%s\nwant\n%s", stdout.String(), want)
	}
	if code := run([]string{"logs", path + "x"}, &bytes.Buffer{}, &bytes.Buffer{}); code != 2 {
		t.Errorf("a missing file: exit %d, want 2", code)
	}
	os.WriteFile(path, nil, 0o644)
	stderr.Reset()
	if code := run([]string{"logs", path}, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "no event lines") {
		t.Errorf("an empty log: exit %d, stderr %q; want 1", code, stderr.String())
	}
	os.WriteFile(path, []byte("not a log line at all\n"), 0o644)
	stderr.Reset()
	if code := run([]string{"logs", path}, &bytes.Buffer{}, &stderr); code != 1 || !strings.Contains(stderr.String(), "line 1") {
		t.Errorf("a bad line: exit %d, stderr %q; want 1 naming line 1", code, stderr.String())
	}
}

// -failfast stops at the first failed seed; past the first ten failures a
// failure gets one line and no saved log.
func TestStressSimFailfastAndKeep(t *testing.T) {
	simWrapForTest = func(_ int, c sim.Core) sim.Core { return lazy{c} }
	defer func() { simWrapForTest = nil }()
	var stdout, stderr bytes.Buffer
	code := run([]string{"stress", "-sim", "-n", "50", "-p", "1", "-failfast", "-schedule", "calm", "-duration", "1s", "-o", t.TempDir()}, &stdout, &stderr)
	if code != 1 || !strings.HasPrefix(stdout.String(), "seeds 1, failed 1;") || !strings.Contains(stdout.String(), "(stopped at the first failure: 49 seeds not run)") {
		t.Errorf("-failfast: exit %d, summary %q", code, stdout.String())
	}
	stdout.Reset()
	stderr.Reset()
	dir := t.TempDir()
	code = run([]string{"stress", "-sim", "-n", "12", "-p", "2", "-schedule", "calm", "-duration", "1s", "-o", dir}, &stdout, &stderr)
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if code != 1 || len(logs) != keepLogs || strings.Count(stderr.String(), "FAIL seed") != 12 || strings.Count(stderr.String(), "replay:") != keepLogs {
		t.Errorf("12 failures: exit %d, %d logs saved, stderr:\n%s", code, len(logs), stderr.String())
	}
}
