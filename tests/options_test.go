package tests

import (
	"regexp"
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raftapi"
)

func TestOptionsSelectByNameAndPart(t *testing.T) {
	cases := []struct {
		opts           *Options
		fullName, part string
		want           bool
	}{
		{nil, "Figure83C", "3C", true},
		{&Options{}, "Figure83C", "3C", true},
		{&Options{Parts: []string{"3A", "3C"}}, "Figure83C", "3C", true},
		{&Options{Parts: []string{"3A", "3D"}}, "Figure83C", "3C", false},
		{&Options{Run: regexp.MustCompile("Figure8")}, "Figure83C", "3C", true},
		{&Options{Run: regexp.MustCompile("Figure8"), Parts: []string{"3D"}}, "Figure83C", "3C", false},
		{&Options{Run: regexp.MustCompile("Backup")}, "Figure83C", "3C", false},
		{&Options{Parts: []string{"4B"}}, "Speed4B", "4B", true},
	}
	for _, c := range cases {
		if got := c.opts.selects(c.fullName, c.part); got != c.want {
			t.Errorf("%+v selects(%s, %s) = %v, want %v", c.opts, c.fullName, c.part, got, c.want)
		}
	}
	// Every part named in the Options' doc exists in a table.
	parts := map[string]bool{}
	for _, s := range Scenarios() {
		parts[s.Part] = true
	}
	for _, s := range KVScenarios() {
		parts[s.Part] = true
	}
	for _, p := range []string{"3A", "3B", "3C", "3D", "4B", "4C"} {
		if !parts[p] {
			t.Errorf("no scenario of part %s", p)
		}
	}
}

// Skipping CheckInvariants runs no Observer: the planted violation of
// TestInspectableViewIsChecked goes unseen, and nothing else fails.
func TestSkipInvariantsRunsNoObserver(t *testing.T) {
	wrap := func(rf *fakeRaft) raftapi.Raft {
		return inspectableFake{rf, func(me int) invariants.View {
			v := invariants.View{ID: me, Term: 1, VotedFor: 0}
			if me == 0 {
				v.Role, v.CommitIndex = invariants.Leader, 5 // planted, as there
			}
			return v
		}}
	}
	run := func(c *Cluster) { c.One(100, 3, false) }
	if rec := withWrappedFakesOpts(t, ClusterOptions{noInvariants: true}, wrap, run); rec.text() != "" {
		t.Errorf("with the Observer skipped: recorded %q, want nothing", rec.text())
	}
	rec := withWrappedFakesOpts(t, ClusterOptions{}, wrap, run)
	wantFailure(t, rec, "CommitIndex violated")
}

func TestSkipLinearizabilityChecksNoHistory(t *testing.T) {
	hs := histories{skip: true}
	hs.list = append(hs.list, history{name: "h"})
	if got, want := hs.check(t).String(), "  lin 1 histories not checked (skipped)"; got != want {
		t.Errorf("check() = %q, want %q", got, want)
	}
}
