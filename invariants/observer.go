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
// A node is known by its ID across its incarnations: a restart is a
// transition of kind Start, checked against what the node persisted
// before (a restart keeps currentTerm and votedFor). The harness says
// where each crash happens (Crash), so that what a dead incarnation still
// does after it is not taken for the node's state.
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
	leaders   map[int]int       // term → the node that led it
	winLogs   map[int]*winLog   // term → the leader's log when it won
	maxLeader int               // highest term with a leader
	entries   map[[2]int]entry  // (index, term) → what the first log to hold it held
	committed map[int]Committed // index → the committed entry
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
	crashed  bool // between Crash and the next Start: reports come from a dead incarnation
	trace    [TraceLen]traceLine
	next     int // where the next line goes in trace
}

// traceLine is one transcript line: desc, or if it is empty, note (kept
// as values and formatted only for a violation).
type traceLine struct {
	seq  int
	desc string
	note Note
}

func (l *traceLine) text() string {
	if l.desc != "" {
		return l.desc
	}
	return l.note.String()
}

type entry struct {
	command  any
	prevTerm int
	node     int
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
		nodes:     map[int]*nodeHistory{},
		leaders:   map[int]int{},
		winLogs:   map[int]*winLog{},
		entries:   map[[2]int]entry{},
		committed: map[int]Committed{},
		applied:   map[int]appliedEntry{},
	}
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

// record adds a line to node id's transcript: desc, or if it is empty,
// *note.
func (o *Observer) record(h *nodeHistory, desc string, note *Note) {
	o.seq++
	l := &h.trace[h.next]
	l.seq, l.desc = o.seq, desc
	if desc == "" && note != nil {
		l.note = *note
	} else {
		l.note = Note{}
	}
	h.next = (h.next + 1) % TraceLen
}

// fail keeps v as the violation, with the transcript of its nodes.
func (o *Observer) fail(v *Violation) bool {
	if v == nil {
		return false
	}
	if o.viol != nil {
		return true
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
			if l.seq != 0 && (l.desc != "" || l.note.Format != nil) {
				lines = append(lines, l)
			}
		}
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].seq < lines[j].seq })
	for i := range lines {
		v.Trace = append(v.Trace, lines[i].text())
	}
	o.viol = v
	return true
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
	if h.crashed {
		if ev.Kind != Start {
			// Rare, so formatted at once.
			desc := ev.Desc
			if desc == "" {
				desc = ev.Note.String()
			}
			o.record(h, desc+" [after n"+itoa(v.ID)+" crashed: not believed]", nil)
			return
		}
		h.crashed = false
	}
	o.record(h, ev.Desc, &ev.Note)
	o.evals.Add(o.check(h, v, ev))
	if v.Persisted != nil {
		h.persist, h.hasPers = *v.Persisted, true
	}
	h.prev = *v
	h.prev.Log, h.prev.Persisted = nil, nil
	h.prevLast = v.LastIndex()
}

// Crash tells o that node crashed here: its stable storage is taken, as
// it stands at this call, to be what its next incarnation starts from.
// The harness calls it at its crash point, before it copies the node's
// storage away.
//
// The incarnation that was running may go on for a while (until Kill
// stops it, or longer); what it writes from then on goes into storage
// nobody reads. So until a node with this ID reports Start, what it
// reports is recorded in the transcript, marked, but neither checked nor
// believed: in particular, a save it makes after the crash point is not
// what the restart check expects the next incarnation to keep. What was
// reported before Crash still is.
//
// Calling Crash earlier than the copy is sound (a save reported in
// between is one the copy holds, and is only expected no longer);
// calling it later is not.
func (o *Observer) Crash(node int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.viol != nil {
		return
	}
	h := o.node(node)
	h.crashed = true
	o.record(h, "n"+itoa(node)+" crashed (seen by the harness)", nil)
}

// check evaluates the properties on one transition, in order, and stops
// at the first violation: after it, a View may hold anything (a
// commitIndex of 2^40), and nothing more is worth computing. It returns
// the number of properties evaluated: the five bounds of localBounds, the
// five of LocalStep and LeaderAppendOnly (or the two of the restart
// check), then one per entry compared, per send and per election.
func (o *Observer) check(h *nodeHistory, v *View, ev Event) int64 {
	n := int64(5)
	restart := ev.Kind == Start || !h.started
	commitFrom := h.prev.CommitIndex
	if restart {
		h.started = true
		commitFrom = v.Base
		n += 2
		if o.fail(restarted(h, v)) {
			return n
		}
	} else {
		n += 6
		if o.fail(LocalStep(&h.prev, v)) || o.fail(leaderAppendOnly(h, v, ev.LogFrom)) {
			return n
		}
	}
	if o.fail(localBounds(v)) {
		return n
	}
	if ev.LogFrom > 0 {
		if o.fail(logTermsFrom(v, ev.LogFrom)) {
			return n
		}
		if n += o.logChanged(v, ev.LogFrom); o.viol != nil {
			return n
		}
	}
	if ev.Kind == Send {
		n++
		if o.fail(PersistBeforeSend(v)) {
			return n
		}
	}
	if v.CommitIndex > commitFrom || restart {
		if n += o.commitAdvanced(v, commitFrom); o.viol != nil {
			return n
		}
	}
	if v.Role == Leader {
		n += o.leads(v.ID, v.Term, v)
	}
	return n
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
		if i <= v.CommitIndex && o.fail(o.checkCommitted(v, i)) {
			return int64(i - from + 1)
		}
	}
	return int64(v.LastIndex() - from + 1)
}

// commitAdvanced records the entries v newly commits (above from) and
// checks them against what is known committed (StateMachineSafety) and
// against the logs of leaders of later terms (LeaderCompleteness).
func (o *Observer) commitAdvanced(v *View, from int) int64 {
	if v.Base > 0 && o.fail(o.checkCommitted(v, v.Base)) {
		return 1
	}
	lo, hi := max(from, v.Base)+1, min(v.CommitIndex, v.LastIndex())
	for i := lo; i <= hi; i++ {
		if o.fail(o.checkCommitted(v, i)) {
			return int64(i - lo + 1)
		}
	}
	return int64(max(hi-lo+1, 0))
}

// checkCommitted checks v's entry (or base) at index i, which v holds as
// committed, against the committed entry known at i; if none is known,
// v's becomes it, committed in v's term.
func (o *Observer) checkCommitted(v *View, i int) *Violation {
	t, _ := v.TermAt(i)
	e, isEntry := v.EntryAt(i)
	if c, ok := o.committed[i]; ok {
		if c.Entry.Term != t || isEntry && c.Entry.Command != nil && !sameCommand(c.Entry.Command, e.Command) {
			return &Violation{Property: StateMachineSafetyName, Nodes: []int{v.ID}, Term: v.Term, Index: i,
				Found: "n" + itoa(v.ID) + " committed " + showHeld(v, i),
				Want:  showEntry(i, c.Entry) + ", committed in term " + itoa(c.InTerm)}
		}
		if c.Entry.Command == nil && isEntry {
			c.Entry.Command = e.Command
			o.committed[i] = c
		}
		return nil
	}
	if !isEntry {
		e = Entry{Term: t} // a base: its command is in the snapshot
	}
	c := Committed{Index: i, Entry: e, InTerm: v.Term}
	o.committed[i] = c
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
	var worst *Violation // the lowest index missing, whatever the map's order
	for i, c := range o.committed {
		if i < max(v.Base, 1) || c.InTerm >= term {
			continue
		}
		n++
		if x := holdsCommitted(v, i, c.Entry, c.Entry.Command != nil); x != nil && (worst == nil || i < worst.Index) {
			x.Found += ", but " + showEntry(i, c.Entry) + " was committed in term " + itoa(c.InTerm)
			worst = x
		}
	}
	o.fail(worst)
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
	if !o.seenOutside(node, "applied command "+showCommand(cmd)+" at "+itoa(index)) {
		return
	}
	if a, ok := o.applied[index]; ok {
		if !sameCommand(a.command, cmd) {
			o.fail(&Violation{Property: StateMachineSafetyName, Nodes: []int{node, a.node}, Index: index,
				Found: "n" + itoa(node) + " applied command " + showCommand(cmd) + " at " + itoa(index),
				Want:  "command " + showCommand(a.command) + ", as n" + itoa(a.node) + " applied"})
		}
		return
	}
	o.applied[index] = appliedEntry{cmd, node}
	if c, ok := o.committed[index]; ok {
		if c := c.Entry.Command; c != nil && !sameCommand(c, cmd) {
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
	if !o.seenOutside(node, "installed snapshot "+itoa(index)+"/"+itoa(term)) {
		return
	}
	if c, ok := o.committed[index]; ok && c.Entry.Term != term {
		o.fail(&Violation{Property: StateMachineSafetyName, Nodes: []int{node}, Index: index,
			Found: "n" + itoa(node) + " installed a snapshot through " + itoa(index) + "/" + itoa(term),
			Want:  "one through the committed " + showEntry(index, c.Entry)})
	}
}

// seenOutside adds what the harness saw node do to its transcript, and
// reports whether checking goes on (no violation yet). o.mu is held.
func (o *Observer) seenOutside(node int, what string) bool {
	if o.viol != nil {
		return false
	}
	o.evals.Add(1)
	o.record(o.node(node), "n"+itoa(node)+" "+what, nil)
	return true
}

func itoa(i int) string { return strconv.Itoa(i) }
