package raft

import (
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/stretchr/testify/require"
)

// campaign makes node id time out and stand for election until it wins,
// delivering every message, at most a few terms; then lets one heartbeat
// interval pass, so that every server has heard from the new leader.
func (cn *coreNet) campaign(t *testing.T, id int) *node {
	t.Helper()
	r := cn.nodes[id]
	for range 4 {
		for r.role == follower {
			cn.tick(id)
		}
		cn.flush()
		if r.role == leader {
			cn.beat(r)
			return r
		}
		r.becomeFollower(r.currentTerm) // lost: stand again
	}
	t.Fatalf("n%d did not win an election", id)
	return nil
}

// stepDown lets leader r send heartbeats until a reply of a newer term
// makes it a follower.
func (cn *coreNet) stepDown(r *node) {
	for r.role == leader {
		cn.tick(r.id)
		cn.flush()
	}
}

// TestFigure8Paper plays Figure 8 of the paper on five cores, step by
// step, with the invariants Observer watching (built with -tags
// invariants). n0 and n4 play S1 and S5:
//
//	(a) n0 leads term 1 and replicates entry 1 (term 1) to n1 only;
//	(b) n4 leads term 2 and appends entry 1 (term 2), alone;
//	(c) n0 leads term 3 and replicates its entry 1 (term 1) to a majority;
//	(d) n4 leads term 4, elected by votes that its newer last term wins,
//	    and overwrites entry 1 everywhere.
//
// In (c) entry 1 is on a majority, but it is of term 1, so a leader of
// term 3 must not count it committed (§5.4.2). A core that does (the
// mutant tests/bugzoo/07-commit-previous-term.patch) commits it, and in (d)
// the Observer reports LeaderCompleteness: a leader of term 4 without an
// entry committed in term 3.
func TestFigure8Paper(t *testing.T) {
	obs := invariants.NewObserver()
	cn := newObservedNet(t, 5, obs)
	check := func() {
		t.Helper()
		if err := obs.Err(); err != nil {
			t.Fatal(err)
		}
	}

	// (a)
	n0 := cn.campaign(t, 0)
	cn.cut = map[int]bool{2: true, 3: true, 4: true}
	cn.ns[n0.id].Propose("S1 term 1")
	cn.flush()
	// (b)
	cn.cut = map[int]bool{0: true, 1: true}
	n4 := cn.campaign(t, 4)
	cn.cut[4] = true
	cn.ns[n4.id].Propose("S5 term 2")
	cn.flush()
	// (c) n0 rejoins, learns of term 2 from the replies to its heartbeat,
	// and stands again.
	cn.cut = map[int]bool{4: true}
	cn.stepDown(n0)
	n0 = cn.campaign(t, 0)
	require.Equal(t, 3, n0.currentTerm)
	for _, id := range []int{0, 1, 2} {
		require.Equal(t, Entry{Term: 1, Command: "S1 term 1"}, cn.nodes[id].log.at(1), "n%d holds entry 1 of term 1", id)
	}
	check()
	// (d)
	cn.cut = map[int]bool{0: true}
	cn.stepDown(n4)
	n4 = cn.campaign(t, 4)
	check()
	require.Equal(t, 4, n4.currentTerm)
	for range n4.cfg.HeartbeatTicks {
		cn.tick(n4.id)
	}
	cn.flush()
	for _, id := range []int{1, 2, 3, 4} {
		require.Equal(t, Entry{Term: 2, Command: "S5 term 2"}, cn.nodes[id].log.at(1), "n%d now holds n4's entry 1", id)
	}
	require.Equal(t, 0, n0.commitIndex, "n0 never counted an entry of term 1 committed in term 3")
	if invariantsOn {
		require.Positive(t, obs.Evaluations(), "the cores reported to the Observer")
	}
	// Reference: section 5.4.2, Figure 8
}
