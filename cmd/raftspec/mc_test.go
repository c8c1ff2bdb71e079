package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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

func TestMCViolation(t *testing.T) {
	code, out, _ := runMCArgs("-bug", "forget-vote", "-maxterm", "2", "-maxlog", "0", "-maxinflight", "1", "-progress", "0")
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
	code, out, _ := runMCArgs("-json", "-bug", "vote-no-uptodate", "-maxterm", "3", "-maxlog", "1", "-maxinflight", "1", "-progress", "0")
	var res mcResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("exit %d, output is not JSON: %v\n%s", code, err, out)
	}
	if code != 1 || res.Verdict != "violation" || res.Trace == nil || res.Trace.Property != "LeaderCompleteness" || len(res.Trace.Steps) != 20 {
		t.Errorf("exit %d, verdict %q, trace %+v; want 1, violation, LeaderCompleteness in 19 steps", code, res.Verdict, res.Trace)
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

// A planted bug the bounds cannot show gets a note naming bounds that do.
func TestMCBugHint(t *testing.T) {
	code, out, _ := runMCArgs("-bug", "figure8", "-maxterm", "2", "-maxlog", "1", "-maxinflight", "1", "-progress", "0")
	if code != 0 || !strings.Contains(out, "note: bug figure8 was not found") || !strings.Contains(out, "-maxterm 4") {
		t.Errorf("exit %d, output %q; want 0 and a note with the bounds that find it", code, out)
	}
}
