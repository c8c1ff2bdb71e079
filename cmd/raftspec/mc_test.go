package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/raftspec/raftspec/spec"
)

func runMCArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"mc"}, args...), &o, &e)
	return code, o.String(), e.String()
}

func TestMCNoViolation(t *testing.T) {
	code, out, errOut := runMCArgs("-maxterm", "2", "-maxlog", "1", "-maxinflight", "1", "-progress", "0")
	if code != 0 || !strings.Contains(out, "ok: 2725 distinct states") {
		t.Errorf("exit %d, stdout %q, stderr %q; want 0 and ok with 2725 states", code, out, errOut)
	}
}

// planted returns spec.PlantedBugs' row for b, and its command line.
func planted(t *testing.T, b spec.Bug) (spec.PlantedBug, []string) {
	t.Helper()
	for _, pb := range spec.PlantedBugs() {
		if pb.Bug == b {
			return pb, strings.Fields(bugFlags(pb))
		}
	}
	t.Fatalf("no planted bug %s", b)
	return spec.PlantedBug{}, nil
}

func TestMCViolation(t *testing.T) {
	_, args := planted(t, spec.BugForgetVote)
	code, out, _ := runMCArgs(append(args, "-progress", "0")...)
	if code != 1 {
		t.Errorf("exit %d, want 1 (violation)", code)
	}
	for _, want := range []string{"ElectionSafety violated", "trace of 12 steps", "  7. Restart(n", "violation: "} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestMCJSON(t *testing.T) {
	pb, args := planted(t, spec.BugVoteNoUpToDate)
	code, out, _ := runMCArgs(append(args, "-json", "-progress", "0")...)
	var res mcResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, output is not JSON: %v\n%s", code, err, out)
	}
	if code != 1 || res.Verdict != "violation" || res.Trace == nil || res.Trace.Property != pb.Property || len(res.Trace.Steps) != pb.Steps+1 {
		t.Errorf("exit %d, verdict %q, trace %+v; want 1, violation, %s in %d steps", code, res.Verdict, res.Trace, pb.Property, pb.Steps)
	}
}

func TestMCLimits(t *testing.T) {
	code, out, _ := runMCArgs("-max-states", "1000", "-progress", "0")
	if code != 0 || !strings.Contains(out, "incomplete:") || !strings.Contains(out, "stopped: max states") {
		t.Errorf("exit %d, output %q; want 0 and an incomplete search stopped at max states", code, out)
	}
}

func TestMCBadUsage(t *testing.T) {
	for _, args := range [][]string{
		{"-servers", "9"},
		{"-maxterm", "0"},
		{"-bug", "nope"},
		{"-workers", "-1"},
		{"-workers", "257"},
		{"-timeout", "-1s"},
		{"-maxinflight", "0"},
		{"-nosuchflag"},
		{"extra"},
		{"-servers", "x"},
	} {
		code, _, errOut := runMCArgs(args...)
		if code != 2 || errOut == "" {
			t.Errorf("mc %v: exit %d, stderr %q; want 2 and a message", args, code, errOut)
		}
	}
	if code, _, errOut := runMCArgs("-h"); code != 0 || !strings.Contains(errOut, "-maxinflight") {
		t.Errorf("mc -h: exit %d, want 0 and the flags", code)
	}
}

// -workers takes 0 (GOMAXPROCS) to maxWorkers, and the summary counts
// them in English.
func TestMCWorkers(t *testing.T) {
	small := []string{"-maxterm", "2", "-maxlog", "1", "-maxinflight", "1", "-progress", "0"}
	for _, tc := range []struct {
		workers string
		code    int
		out     string // in stdout if code is 0, else in stderr
	}{
		{"1", 0, ", 1 worker)"},
		{"2", 0, ", 2 workers)"},
		{"256", 0, ", 256 workers)"},
		{"257", 2, "raftspec mc: -workers 257: want 0 (GOMAXPROCS) to 256"},
		{"-3", 2, "raftspec mc: -workers -3: want 0 (GOMAXPROCS) to 256"},
	} {
		code, out, errOut := runMCArgs(append(small, "-workers", tc.workers)...)
		if tc.code != 0 {
			out = errOut
		}
		if code != tc.code || !strings.Contains(out, tc.out) {
			t.Errorf("mc -workers %s: exit %d, output %q; want %d and %q", tc.workers, code, out, tc.code, tc.out)
		}
	}
}

// A planted bug the bounds cannot show gets a note naming bounds that do:
// those of its row in spec.PlantedBugs.
func TestMCBugHint(t *testing.T) {
	pb, _ := planted(t, spec.BugFigure8)
	code, out, _ := runMCArgs("-bug", "figure8", "-maxterm", "2", "-maxlog", "1", "-maxinflight", "1", "-progress", "0")
	want := "note: bug figure8 was not found within these bounds; it breaks ElectableCompleteness in 30 steps with: " +
		"raftspec mc -bug figure8 -maxterm 4 -maxlog 1 -maxinflight 1 -nohistory (docs/spec.md)"
	if code != 0 || !strings.Contains(out, want) {
		t.Errorf("exit %d, output %q; want 0 and %q", code, out, want)
	}
	if !pb.Config.NoHistory {
		t.Errorf("figure8's row has history variables; update this test's note")
	}
}

// The flags bugFlags gives for each planted bug parse back to its
// configuration, and docs/spec.md has its row with the same flags,
// property and length.
func TestMCPlantedBugFlags(t *testing.T) {
	doc, err := os.ReadFile("../../docs/spec.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, pb := range spec.PlantedBugs() {
		flags := bugFlags(pb)
		fs, f := newMCFlags(io.Discard)
		if err := fs.Parse(strings.Fields(flags)); err != nil {
			t.Errorf("%s: parsing %q: %v", pb.Bug, flags, err)
			continue
		}
		got, err := f.config()
		want := pb.Config
		if err == nil {
			err = want.Validate()
		}
		if err != nil || got != want {
			t.Errorf("%s: %q gives %s, %v; want %s", pb.Bug, flags, got, err, want)
		}
		row := fmt.Sprintf("| `%s` | %s | %d |", flags, pb.Property, pb.Steps)
		found := false
		for _, line := range strings.Split(string(doc), "\n") {
			found = found || strings.HasPrefix(line, "| `"+pb.Bug.String()+"` |") && strings.Contains(line, row)
		}
		if !found {
			t.Errorf("docs/spec.md has no row for `%s` with %q", pb.Bug, row)
		}
	}
}
