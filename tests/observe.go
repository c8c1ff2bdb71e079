package tests

import (
	"fmt"
	"sync"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raftapi"
)

// Inspectable is an optional interface of an implementation: one that can
// show its state as an invariants.View gets it checked against the
// properties (Figure 3 of the paper and the local ones) after every RPC the
// harness delivers to it, and after every Start it accepts. The first View
// of each incarnation is checked as a restart, against what the View's
// Persisted said before the crash. View must be safe to call concurrently
// with the implementation's own goroutines.
type Inspectable interface {
	View() invariants.View
}

// observerAPI is what the harness uses of *invariants.Observer.
type observerAPI interface {
	ApplyCommand(node, index int, cmd any)
	ApplySnapshot(node, index, term int)
	ClaimsLeader(node, term int)
	Crash(node int)
	Observe(v *invariants.View, ev invariants.Event)
	Err() error
	Evaluations() int64
}

// observation connects one cluster to its own invariants Observer: the
// cluster hands it to each server through its Persister (the reference,
// built with -tags invariants, reports every transition into it: see
// raft.Harness), and feeds it what the harness sees: applies, leadership
// claims, crashes, and Views of Inspectable implementations.
type observation struct {
	o   observerAPI
	obs *invariants.Observer // o itself, for the servers; nil when nothing is checked

	mu        sync.Mutex // held while a View is taken and reported
	lastTerms [][]int    // per node: log terms of the last View observed

	// Incarnations, under incMu, which is never held while the
	// implementation runs (a crash must not wait for a View).
	incMu sync.Mutex
	shown []raftapi.Raft // per node: the incarnation whose Views are observed; nil once it crashed
	gen   []int          // per node: bumped when shown changes
	fresh []bool         // per node: no View of shown[i] observed yet
}

// newObservation makes the cluster's observation; without an Observer
// (run false) it still tracks incarnations, and checks nothing.
func newObservation(c *Cluster, run bool) *observation {
	ob := &observation{lastTerms: make([][]int, c.n),
		shown: make([]raftapi.Raft, c.n), gen: make([]int, c.n), fresh: make([]bool, c.n)}
	if run {
		ob.obs = invariants.NewObserver()
		ob.o = ob.obs
	}
	return ob
}

// crashed marks the crash point of server id, if it is running: the
// cluster calls it before it copies the server's storage away. The
// Observer believes nothing the dead incarnation reports after it, and no
// View of it is reported after it.
func (ob *observation) crashed(id int) {
	ob.incMu.Lock()
	defer ob.incMu.Unlock()
	if ob.shown[id] == nil {
		return // not running: already crashed, or never made
	}
	ob.shown[id], ob.fresh[id] = nil, false
	ob.gen[id]++
	if ob.o != nil {
		ob.o.Crash(id)
	}
}

// made tells the observation that rf is server id's new incarnation, before
// anyone can call it: its first View is observed as a (re)start.
func (ob *observation) made(id int, rf raftapi.Raft) {
	ob.incMu.Lock()
	defer ob.incMu.Unlock()
	ob.shown[id], ob.fresh[id] = rf, true
	ob.gen[id]++
}

func (ob *observation) err() error {
	if ob.o == nil {
		return nil
	}
	return ob.o.Err()
}

func (ob *observation) evaluations() int64 {
	if ob.o == nil {
		return 0
	}
	return ob.o.Evaluations()
}

func (ob *observation) applyCommand(node, index int, cmd any) {
	if ob.o != nil {
		ob.o.ApplyCommand(node, index, cmd)
	}
}

func (ob *observation) applySnapshot(node, index, term int) {
	if ob.o != nil {
		ob.o.ApplySnapshot(node, index, term)
	}
}

func (ob *observation) claimsLeader(node, term int) {
	if ob.o != nil {
		ob.o.ClaimsLeader(node, term)
	}
}

// delivered runs after a handler of server id returned.
func (ob *observation) delivered(id int, method string) {
	ob.inspect(id, invariants.Receive, method)
}

// started runs after server id accepted a Start.
func (ob *observation) started(id int) {
	ob.inspect(id, invariants.Propose, "Start")
}

// inspect observes server id's View if it has one. The first View of an
// incarnation is observed as a Start, and so checked against what the
// node persisted before (a restart is not a step of one incarnation).
func (ob *observation) inspect(id int, kind invariants.Kind, what string) {
	if ob.o == nil {
		return
	}
	// Take the View and report it under one lock: two handlers of one
	// server that return at once must not report their Views in the other
	// order (a false "commitIndex went back").
	ob.mu.Lock()
	defer ob.mu.Unlock()
	ob.incMu.Lock()
	rf, gen, fresh := ob.shown[id], ob.gen[id], ob.fresh[id]
	ob.incMu.Unlock()
	in, ok := rf.(Inspectable)
	if !ok {
		return
	}
	v := in.View()
	desc, prev := fmt.Sprintf("n%d %s (seen by the harness)", id, what), ob.lastTerms[id]
	if fresh {
		kind, desc, prev = invariants.Start, desc+", its first View since it was made", nil
	}
	ev := invariants.Event{Kind: kind, Desc: desc}
	var terms []int
	ev.LogFrom, terms = changedFrom(prev, &v)
	// Report it only if the incarnation has not crashed meanwhile: no
	// View of it is reported after its crash point.
	ob.incMu.Lock()
	defer ob.incMu.Unlock()
	if ob.gen[id] != gen {
		return
	}
	ob.fresh[id], ob.lastTerms[id] = false, terms
	ob.o.Observe(&v, ev)
}

// changedFrom returns the lowest index at which v's log differs from the
// log terms last seen (0 if none), and v's log terms, so the Observer
// re-checks only what changed. prev[k] is the term at index k+1; entries
// compacted into v's snapshot count as unchanged.
func changedFrom(prev []int, v *invariants.View) (int, []int) {
	last := v.LastIndex()
	terms := prev[:min(len(prev), last)]
	from := 0
	for i := v.Base + 1; i <= len(terms); i++ {
		if t, _ := v.TermAt(i); t != terms[i-1] {
			from = i
			terms = terms[:i-1]
			break
		}
	}
	if from == 0 && len(prev) > last {
		from = last + 1 // entries were deleted
	}
	for i := len(terms) + 1; i <= last; i++ {
		if from == 0 {
			from = i
		}
		t, ok := v.TermAt(i)
		if !ok {
			t = v.BaseTerm // compacted before we first saw it
		}
		terms = append(terms, t)
	}
	return from, terms
}
