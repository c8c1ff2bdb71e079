package invariants

import (
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Observer checks the properties as transitions happen. Each node reports
// every transition with Observe (a View of the node after it, and what
// happened); the harness adds what it sees from outside (applies, claims
// of leadership). The Observer keeps the history the global properties
// need, for the whole run, not only for the nodes alive now:
//   - the leader of every term (ElectionSafety);
//   - every (index, term) ever held by any log, with its command and the
//     term before it (LogMatching, in the local form of
//     docs/proofs/log-matching.md);
//   - every committed entry, with the term in which it was first known
//     committed (StateMachineSafety, LeaderCompleteness);
//   - each leader's log when it won (LeaderCompleteness for entries
//     committed after the election).
//
// Checks are incremental: a transition is checked against what it
// changed (Event.LogFrom, the commitIndex advance), not the whole state,
// so the cost of a run is proportional to its transitions.
//
// The first violation is kept (Err); checking stops there. An Observer is
// safe for concurrent use: nodes under different locks may report at once.
type Observer struct {
	mu    sync.Mutex
	viol  *Violation
	evals atomic.Int64
	seq   int

	nodes     map[int]*nodeHistory
	leaders   map[int]int      // term → the node that led it
	winLogs   map[int]*winLog  // term → the leader's log when it won
	maxLeader int              // highest term with a leader
	entries   map[[2]int]entry // (index, term) → what the first log to hold it held
	committed []committedEntry // index → the committed entry (ok false: not known)
	applied   map[int]appliedEntry
}

// TraceLen is how many transitions of each node a violation shows.
const TraceLen = 20

type nodeHistory struct {
	prev     View // Log and Persisted are nil: a summary, not an alias
	prevLast int  // prev's last index
	persist  Durable
	hasPers  bool
	started  bool
	trace    [TraceLen]traceLine
	next     int // where the next line goes in trace
}

type traceLine struct {
	seq  int
	desc string
}

type entry struct {
	command  any
	prevTerm int
	node     int
}

type committedEntry struct {
	Committed
	ok bool
}

type appliedEntry struct {
	command any
	node    int
}

type winLog struct {
	view View // a copy: Log is the leader's own copy of its entries
}

// NewObserver returns an Observer that has seen nothing.
func NewObserver() *Observer {
	return &Observer{
		nodes:   map[int]*nodeHistory{},
		leaders: map[int]int{},
		winLogs: map[int]*winLog{},
		entries: map[[2]int]entry{},
		applied: map[int]appliedEntry{},
	}
}

var current atomic.Pointer[Observer]

// Current is the process-wide Observer that implementations built with
// -tags invariants report to, or nil.
func Current() *Observer { return current.Load() }

// Install makes o the process-wide Observer until restore is called.
// Nodes pick the current Observer when they are made, so a test installs
// one before making its cluster.
func Install(o *Observer) (restore func()) {
	old := current.Swap(o)
	return func() { current.CompareAndSwap(o, old) }
}

// Err returns the first violation found, or nil.
func (o *Observer) Err() error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol == nil {
		return nil
	}
	return o.viol
}

// Violation returns the first violation found, or nil.
func (o *Observer) Violation() *Violation {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.viol
}

// Evaluations is the number of property evaluations so far: one per
// property checked on a transition, and one per log entry compared.
func (o *Observer) Evaluations() int64 { return o.evals.Load() }

func (o *Observer) node(id int) *nodeHistory {
	h := o.nodes[id]
	if h == nil {
		h = &nodeHistory{}
		o.nodes[id] = h
	}
	return h
}

// record adds desc to node id's transcript.
func (o *Observer) record(h *nodeHistory, desc string) {
	o.seq++
	h.trace[h.next] = traceLine{o.seq, desc}
	h.next = (h.next + 1) % TraceLen
}

// fail keeps v as the violation, with the transcript of its nodes.
func (o *Observer) fail(v *Violation) {
	if v == nil || o.viol != nil {
		return
	}
	var lines []traceLine
	seen := map[int]bool{}
	for _, id := range v.Nodes {
		h := o.nodes[id]
		if h == nil || seen[id] {
			continue
		}
		seen[id] = true
		for _, l := range h.trace {
			if l.desc != "" {
				lines = append(lines, l)
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].seq < lines[j].seq })
	for _, l := range lines {
		v.Trace = append(v.Trace, l.desc)
	}
	o.viol = v
}

// Observe checks node v.ID after the transition ev. v may alias the
// node's memory; it is not kept.
func (o *Observer) Observe(v *View, ev Event) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol != nil {
		return
	}
	h := o.node(v.ID)
	o.record(h, ev.Desc)
	// n counts the properties evaluated: the five bounds of localBounds,
	// and the five of LocalStep plus LeaderAppendOnly (or the two of the
	// restart check), then one per entry compared and per send.
	n := int64(5 + 2)
	restart := ev.Kind == Start || !h.started
	commitFrom := h.prev.CommitIndex
	if restart {
		o.fail(restarted(h, v))
		h.started = true
		commitFrom = v.Base
	} else {
		o.fail(LocalStep(&h.prev, v))
		o.fail(leaderAppendOnly(h, v, ev.LogFrom))
		n += 4
	}
	o.fail(localBounds(v))
	if ev.LogFrom > 0 {
		o.fail(logTermsFrom(v, ev.LogFrom))
		n += o.logChanged(v, ev.LogFrom)
	}
	if ev.Kind == Send {
		o.fail(PersistBeforeSend(v))
		n++
	}
	if v.CommitIndex > commitFrom || restart {
		n += o.commitAdvanced(v, commitFrom)
	}
	if v.Role == Leader {
		n += o.leads(v.ID, v.Term, v)
	}
	o.evals.Add(n)

	if v.Persisted != nil {
		h.persist, h.hasPers = *v.Persisted, true
	}
	h.prev = *v
	h.prev.Log, h.prev.Persisted = nil, nil
	h.prevLast = v.LastIndex()
}

// restarted checks a node that (re)starts: its term and vote must be at
// least what its previous incarnation persisted (Figure 2: currentTerm and
// votedFor are persistent state).
func restarted(h *nodeHistory, v *View) *Violation {
	if !h.hasPers {
		return nil
	}
	p := h.persist
	switch {
	case v.Term < p.Term:
		return local(TermMonotonicName, v, 0, "restarted in term "+itoa(v.Term)+" after persisting term "+itoa(p.Term),
			"a restart keeps the persisted currentTerm")
	case v.Term == p.Term && p.VotedFor != None && v.VotedFor != p.VotedFor:
		return local(VotedForStableName, v, 0, "restarted with vote "+showVote(v.VotedFor)+" in term "+itoa(v.Term)+" after persisting vote "+showVote(p.VotedFor),
			"a restart keeps the persisted votedFor")
	}
	return nil
}

// leaderAppendOnly is LeaderAppendOnly in incremental form: while a node
// leads one term, no transition changes an entry at or below its previous
// last index.
func leaderAppendOnly(h *nodeHistory, v *View, logFrom int) *Violation {
	if logFrom == 0 || logFrom > h.prevLast || h.prev.Role != Leader || v.Role != Leader || h.prev.Term != v.Term {
		return nil
	}
	found := "entries from " + itoa(logFrom) + " deleted (log now ends at " + itoa(v.LastIndex()) + ")"
	if t, ok := v.TermAt(logFrom); ok && logFrom <= v.LastIndex() {
		found = "entry " + itoa(logFrom) + " overwritten with one of term " + itoa(t)
	}
	return &Violation{Property: LeaderAppendOnlyName, Nodes: []int{v.ID}, Term: v.Term, Index: logFrom,
		Found: found, Want: "a leader's entries kept while it leads (its log ended at " + itoa(h.prevLast) + ")"}
}

// logChanged checks the entries of v from index from on: LogMatching
// against every (index, term) any log ever held, and StateMachineSafety
// for those at or below commitIndex. It returns the number of entries
// compared.
func (o *Observer) logChanged(v *View, from int) int64 {
	from = max(from, v.Base+1)
	for i := from; i <= v.LastIndex(); i++ {
		e := v.Log[i-v.Base-1]
		pt, _ := v.TermAt(i - 1)
		k := [2]int{i, e.Term}
		old, ok := o.entries[k]
		switch {
		case !ok:
			o.entries[k] = entry{command: e.Command, prevTerm: pt, node: v.ID}
		case !sameCommand(old.command, e.Command):
			o.fail(commandMismatch(v.ID, old.node, i, e.Term, e.Command, old.command))
			return int64(i - from + 1)
		case old.prevTerm != pt:
			o.fail(prevTermMismatch(v.ID, old.node, i, e.Term, pt, old.prevTerm))
			return int64(i - from + 1)
		}
		if i <= v.CommitIndex {
			o.fail(o.checkCommitted(v, i))
		}
	}
	return int64(v.LastIndex() - from + 1)
}

// commitAdvanced records the entries v newly commits (above from) and
// checks them against what is known committed (StateMachineSafety) and
// against the logs of leaders of later terms (LeaderCompleteness).
func (o *Observer) commitAdvanced(v *View, from int) int64 {
	if v.Base > 0 {
		o.fail(o.checkCommitted(v, v.Base))
	}
	lo := max(from, v.Base) + 1
	for i := lo; i <= v.CommitIndex; i++ {
		if v := o.checkCommitted(v, i); v != nil {
			o.fail(v)
			break
		}
	}
	return int64(max(v.CommitIndex-lo+1, 0))
}

// checkCommitted checks v's entry (or base) at index i, which v holds as
// committed, against the committed entry known at i; if none is known,
// v's becomes it, committed in v's term.
func (o *Observer) checkCommitted(v *View, i int) *Violation {
	t, _ := v.TermAt(i)
	e, isEntry := v.EntryAt(i)
	if i < len(o.committed) && o.committed[i].ok {
		c := o.committed[i]
		if c.Entry.Term != t || isEntry && c.Entry.Command != nil && !sameCommand(c.Entry.Command, e.Command) {
			return &Violation{Property: StateMachineSafetyName, Nodes: []int{v.ID}, Term: v.Term, Index: i,
				Found: "n" + itoa(v.ID) + " committed " + showHeld(v, i),
				Want:  showEntry(i, c.Entry) + ", committed in term " + itoa(c.InTerm)}
		}
		if c.Entry.Command == nil && isEntry {
			o.committed[i].Entry.Command = e.Command
		}
		return nil
	}
	if !isEntry {
		e = Entry{Term: t} // a base: its command is in the snapshot
	}
	for len(o.committed) <= i {
		o.committed = append(o.committed, committedEntry{})
	}
	c := Committed{Index: i, Entry: e, InTerm: v.Term}
	o.committed[i] = committedEntry{c, true}
	if v.Term < o.maxLeader {
		for term, w := range o.winLogs {
			if term > c.InTerm && i >= w.view.Base {
				if x := holdsCommitted(&w.view, i, e, isEntry); x != nil {
					x.Found += " when it won term " + itoa(term)
					x.Nodes = append(x.Nodes, v.ID)
					return x
				}
			}
		}
	}
	return nil
}

// leads records that node leads term (ElectionSafety), and when it is new
// checks that its log holds every entry committed in an earlier term
// (LeaderCompleteness). v is nil when only a claim is known (GetState).
func (o *Observer) leads(node, term int, v *View) int64 {
	if l, ok := o.leaders[term]; ok {
		if l != node {
			o.fail(twoLeaders(term, l, node))
		}
		return 1
	}
	o.leaders[term] = node
	o.maxLeader = max(o.maxLeader, term)
	if v == nil {
		return 1
	}
	w := &winLog{view: *v}
	w.view.Log = append([]Entry(nil), v.Log...)
	w.view.Persisted = nil
	o.winLogs[term] = w
	n := int64(1)
	for i := max(v.Base, 1); i < len(o.committed); i++ {
		c := o.committed[i]
		if !c.ok || c.InTerm >= term {
			continue
		}
		n++
		if x := holdsCommitted(v, i, c.Entry, c.Entry.Command != nil); x != nil {
			x.Found += ", but " + showEntry(i, c.Entry) + " was committed in term " + itoa(c.InTerm)
			o.fail(x)
			break
		}
	}
	return n
}

// ClaimsLeader records that node claimed to lead term (from GetState or
// an accepted Start): ElectionSafety for implementations that show no
// View.
func (o *Observer) ClaimsLeader(node, term int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol != nil {
		return
	}
	o.evals.Add(o.leads(node, term, nil))
}

// ApplyCommand records that node applied cmd at index (the harness saw it
// on applyCh): StateMachineSafety from what any implementation applies.
func (o *Observer) ApplyCommand(node, index int, cmd any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol != nil {
		return
	}
	o.evals.Add(1)
	h := o.node(node)
	o.record(h, "n"+itoa(node)+" applied command "+showCommand(cmd)+" at "+itoa(index))
	if a, ok := o.applied[index]; ok {
		if !sameCommand(a.command, cmd) {
			o.fail(&Violation{Property: StateMachineSafetyName, Nodes: []int{node, a.node}, Index: index,
				Found: "n" + itoa(node) + " applied command " + showCommand(cmd) + " at " + itoa(index),
				Want:  "command " + showCommand(a.command) + ", as n" + itoa(a.node) + " applied"})
		}
		return
	}
	o.applied[index] = appliedEntry{cmd, node}
	if index < len(o.committed) && o.committed[index].ok {
		if c := o.committed[index].Entry.Command; c != nil && !sameCommand(c, cmd) {
			o.fail(&Violation{Property: StateMachineSafetyName, Nodes: []int{node}, Index: index,
				Found: "n" + itoa(node) + " applied command " + showCommand(cmd) + " at " + itoa(index),
				Want:  "the committed " + showEntry(index, o.committed[index].Entry)})
		}
	}
}

// ApplySnapshot records that node installed a snapshot through index,
// whose last entry has term: its term must be the committed one.
func (o *Observer) ApplySnapshot(node, index, term int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol != nil {
		return
	}
	o.evals.Add(1)
	h := o.node(node)
	o.record(h, "n"+itoa(node)+" installed snapshot "+itoa(index)+"/"+itoa(term))
	if index < len(o.committed) && o.committed[index].ok && o.committed[index].Entry.Term != term {
		c := o.committed[index]
		o.fail(&Violation{Property: StateMachineSafetyName, Nodes: []int{node}, Index: index,
			Found: "n" + itoa(node) + " installed a snapshot through " + itoa(index) + "/" + itoa(term),
			Want:  "one through the committed " + showEntry(index, c.Entry)})
	}
}

func itoa(i int) string { return strconv.Itoa(i) }
