package invariants

import (
	"math/rand/v2"
	"testing"
)

// randomView is node id in a small random state: term 1..3, a log of up
// to three entries with non-decreasing terms and commands "a" or "b", a
// random role and commitIndex. Most such states are not reachable by
// Raft; that is the point: they break the properties in many ways.
func randomView(rng *rand.Rand, id int) View {
	v := View{ID: id, Term: 1 + rng.IntN(3), VotedFor: None, Role: Role(rng.IntN(3))}
	t := 1
	for range rng.IntN(4) {
		t = min(t+rng.IntN(2), v.Term)
		v.Log = append(v.Log, Entry{Term: t, Command: string(rune('a' + rng.IntN(2)))})
	}
	v.CommitIndex = rng.IntN(len(v.Log) + 1)
	v.LastApplied = v.CommitIndex
	return v
}

// plainViolation is what the plain functions find in the current views.
func plainViolation(views []View) *Violation {
	for _, p := range []func([]View) *Violation{ElectionSafety, LogMatching, StateMachineSafety} {
		if v := p(views); v != nil {
			return v
		}
	}
	for i := range views {
		if v := LocalState(&views[i]); v != nil {
			return v
		}
	}
	return nil
}

// The Observer is the incremental twin of the plain properties, and a
// stronger one (it remembers the whole run): whenever the plain functions
// find a violation among the current states of the nodes, the Observer,
// fed the same states one transition at a time, has found one too, at
// that step or before.
func TestObserverTwinOfPlainProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	caught := 0
	for trial := range 3000 {
		o := NewObserver()
		views := make([]View, 3)
		for id := range views {
			views[id] = View{ID: id, VotedFor: None}
		}
		for step := range 6 {
			id := rng.IntN(3)
			views[id] = randomView(rng, id)
			kind := Receive
			if step < 3 {
				kind = Start // a fresh node: no step to compare with
			}
			o.Observe(&views[id], Event{Kind: kind, Desc: "step", LogFrom: 1})
			if p := plainViolation(views); p != nil {
				if o.Err() == nil {
					t.Fatalf("trial %d step %d: the plain functions found %v, the Observer nothing; views %+v", trial, step, p, views)
				}
				caught++
				break
			}
		}
	}
	if caught < 1000 {
		t.Errorf("only %d of 3000 random runs broke a property: the generator has stopped exercising the twin", caught)
	}
}
