package sim

// Trace validation (Options.Validate): every input of every node is
// checked against the executable spec. The node's state before and after
// the input is mapped to a spec.Server (the refinement mapping), the
// message it received to spec messages, and a breadth-first search looks
// for a short sequence of spec actions at that server that leads from the
// mapped state before to one that agrees with the mapped state after.
// docs/simulation.md ("Trace validation") says what is and is not
// compared, and why.

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/spec"
)

// TraceStats is what trace validation did in one run.
type TraceStats struct {
	// Steps is the number of inputs validated, Restarts the number of
	// node starts validated (against Init or Restart).
	Steps, Restarts int
	// Stutters is how many of the steps changed nothing the spec sees
	// (a leader's tick, a stale reply dropped, a refused proposal): they
	// match the empty sequence of actions.
	Stutters int
	// Actions counts the spec actions of the sequences that matched the
	// steps, by action name.
	Actions map[string]int
	// Longest is the longest sequence of actions that matched one step.
	Longest int
	// OutOfBounds is the event from which the run left the spec's bounds,
	// and so was no longer validated; Why says what left them. Why is ""
	// if the run never did (OutOfBounds is 0 if it never was within them).
	OutOfBounds int
	Why         string
}

// ValidationOptions are the options of a run that trace validation
// follows for most of its length: 3 servers and one second of faults (so
// about ten commands, the spec's 8-entry logs lasting through most of
// it), validation on.
func ValidationOptions(seed uint64, schedule string) Options {
	return Options{Seed: seed, Schedule: schedule, Servers: 3, Duration: time.Second, Validate: true}
}

// SearchDepth bounds the sequence of spec actions that may match one
// input: an AppendEntries that removes a whole log, appends a whole one
// and answers each of its entries, plus a term update, a step down, an
// election and a commit.
const SearchDepth = 3*spec.MaxLog + 6

// TraceError is a step of a node that the spec does not allow.
type TraceError struct {
	Node    int
	Input   string // the input, as the core saw it
	Spec    string // the message received, as spec messages ("" if none)
	Replies string // the replies the node sent, as spec messages
	Why     string // what is wrong, if not that no sequence of actions matches
	Before  string // the mapped state before, in spec notation
	After   string // the mapped state after
	Change  string // what changed, in spec notation
	States  int    // spec states the search explored
}

func (e *TraceError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TraceValidation: n%d %s: ", e.Node, e.Input)
	if e.Why != "" {
		b.WriteString(e.Why)
	} else {
		fmt.Fprintf(&b, "no sequence of at most %d spec actions at n%d leads from the mapped state before to the mapped state after", SearchDepth, e.Node)
		if e.Replies != "" {
			b.WriteString(" and the replies it sent")
		}
		fmt.Fprintf(&b, " (%d spec states explored)", e.States)
	}
	if e.Spec != "" {
		fmt.Fprintf(&b, "\n  received, as spec messages: %s", e.Spec)
	}
	if e.Replies != "" {
		fmt.Fprintf(&b, "\n  replied, as spec messages: %s", e.Replies)
	}
	change := e.Change
	if change == "" {
		change = "none"
	}
	fmt.Fprintf(&b, "\n  before: %s\n  after:  %s\n  change: %s", e.Before, e.After, change)
	b.WriteString("\n  (core term t is spec term t+1, command k is value vk; nextIndex is not compared)")
	return b.String()
}

// tracer validates one run.
type tracer struct {
	p     *spec.Spec
	n     int
	nodes []*raft.Node   // as made, under any Wrap
	last  []*spec.Server // mapped state after the node's last step; nil before its first start
	seen  map[spec.State]bool
	buf   []searchNode // the search's, kept between steps
	stats TraceStats
	off   bool // out of the spec's bounds: validation stopped
	// inspect reads a node's state: (*raft.Node).Inspect, or in a test
	// a double of it.
	inspect func(*raft.Node) raft.NodeState
}

// traceConfig is the spec the steps are validated against: every value,
// term and log length a State holds, no bound on the network (the search
// only receives the one message the core received), and Restart.
func traceConfig(n int) spec.Config {
	return spec.Config{Servers: n, Values: 15, MaxTerm: 15, MaxLog: spec.MaxLog, MaxCopies: 15,
		MaxInFlight: -1, Restart: true, NoHistory: true}
}

func newTracer(n int) *tracer {
	tv := &tracer{n: n, nodes: make([]*raft.Node, n), last: make([]*spec.Server, n),
		seen: map[spec.State]bool{}, stats: TraceStats{Actions: map[string]int{}}, inspect: (*raft.Node).Inspect}
	if n > spec.MaxServers {
		tv.off, tv.stats.Why = true, fmt.Sprintf("%d servers, more than spec.MaxServers (%d)", n, spec.MaxServers)
		return tv
	}
	tv.p, _ = spec.NewSpec(traceConfig(n))
	return tv
}

// leave stops validation: the run left the spec's bounds at this event.
func (tv *tracer) leave(s *Sim, why string) {
	tv.off = true
	tv.stats.OutOfBounds, tv.stats.Why = s.events, why
}

// traceStarted validates the start of node i: a fresh node is in raft.tla's
// Init, a restarted one in Restart of its state when it crashed (its last
// step's: the simulator crashes a node only once it has saved what its
// last input changed).
func (s *Sim) traceStarted(i int, c *raft.Node) {
	if !s.opt.Validate {
		return
	}
	if s.tv == nil {
		s.tv = newTracer(s.n)
		if s.tv.off {
			s.tv.stats.OutOfBounds = s.events
		}
	}
	tv := s.tv
	tv.nodes[i] = c
	if tv.off {
		return
	}
	st := tv.inspect(c)
	now, why := tv.mapState(i, &st)
	if why != "" {
		tv.leave(s, fmt.Sprintf("n%d starts with %s", i, why))
		return
	}
	a, b := tv.p.Init(), spec.State{}
	want := "Init"
	if prev := tv.last[i]; prev != nil {
		a.Servers[i] = *prev
		tv.p.Restart(&a, &b, i)
		want = fmt.Sprintf("Restart(n%d)", i)
	} else {
		b = a
	}
	tv.last[i] = &now
	if !agree(&now, &b.Servers[i], &b.Servers[i]) {
		var exp, got spec.State
		exp.Servers[i], got.Servers[i] = b.Servers[i], now
		why := fmt.Sprintf("the node does not start in %s of the mapped state before (its last step's)", want)
		if want == "Init" {
			why = "a fresh node is not in the spec's Init"
		}
		s.fail(&TraceError{Node: i, Input: "start", Why: why, Before: tv.p.DescribeServer(&a, i),
			After: tv.p.DescribeServer(&got, i), Change: strings.Join(tv.p.Changes(&exp, &got), "; ") + " (from " + want + "'s)"})
		return
	}
	tv.stats.Restarts++
}

// traceStep validates the input just run on node i (what, and the message
// m received, if any) against the spec.
func (s *Sim) traceStep(i int, what string, m *raft.Message) {
	tv := s.tv
	if tv == nil || tv.off || s.err != nil {
		return
	}
	input := func() string { // formatted only if needed
		if m == nil {
			return what
		}
		return what + " " + m.String()
	}
	st := tv.inspect(tv.nodes[i])
	after, why := tv.mapState(i, &st)
	var msgs []spec.Packed
	if why == "" && m != nil {
		msgs, why = mapMessage(m)
	}
	// What the node sent: its replies must be the spec's, its requests
	// ones the spec's RequestVote or AppendEntries could send.
	var replies []spec.Packed
	type request struct {
		m  *raft.Message
		ps []spec.Packed
	}
	var requests []request
	for k := 0; why == "" && k < len(st.Outbox); k++ {
		o := &st.Outbox[k]
		ps, w := mapMessage(o)
		switch {
		case w != "":
			why = "sent " + o.String() + ": " + w
		case isReply(o.Kind):
			replies = append(replies, ps...)
		default:
			requests = append(requests, request{o, ps})
		}
	}
	if why != "" {
		tv.leave(s, fmt.Sprintf("n%d %s: %s", i, input(), why))
		return
	}
	before := tv.last[i]
	var s0 spec.State = tv.p.Init()
	s0.Servers[i] = *before
	for _, k := range msgs {
		s0.Add(k)
	}
	var first []spec.Action
	switch what {
	case "tick":
		first = []spec.Action{{Kind: spec.ActTimeout, I: uint8(i)}}
	case "propose":
		if s.nextCmd > 15 {
			// The command has no spec value; if the node took it, its log
			// is out of bounds below.
			break
		}
		first = []spec.Action{{Kind: spec.ActClientRequest, I: uint8(i), V: uint8(s.nextCmd)}}
	}
	path, states := tv.search(&s0, i, first, &after, replies)
	bad := ""
requests:
	for k := 0; path != nil && k < len(requests); k++ {
		for _, p := range requests[k].ps {
			if !tv.couldSend(before, i, p) && !tv.couldSend(&after, i, p) {
				bad = fmt.Sprintf("sent %s, which is %s as a spec message; neither the mapped state before nor after sends it",
					requests[k].m.String(), p.Unpack())
				path = nil
				break requests
			}
		}
	}
	if path == nil {
		var a, b spec.State
		a.Servers[i], b.Servers[i] = *before, after
		var ms, rs []string
		for _, k := range msgs {
			ms = append(ms, k.Unpack().String())
		}
		for _, k := range replies {
			rs = append(rs, k.Unpack().String())
		}
		s.fail(&TraceError{Node: i, Input: input(), Spec: strings.Join(ms, "; "), Replies: strings.Join(rs, "; "), Why: bad,
			Before: tv.p.DescribeServer(&a, i), After: tv.p.DescribeServer(&b, i), Change: strings.Join(tv.p.Changes(&a, &b), "; "), States: states})
		return
	}
	tv.stats.Steps++
	if len(path) == 0 {
		tv.stats.Stutters++
	}
	tv.stats.Longest = max(tv.stats.Longest, len(path))
	for _, a := range path {
		tv.stats.Actions[a.Kind.String()]++
	}
	tv.last[i] = &after
}

// searchNode is one state of the search, and how it was reached.
type searchNode struct {
	st     spec.State
	parent int
	act    spec.Action
	depth  int
}

// search looks breadth-first for a sequence of spec actions at server i
// from s0 whose last state agrees with want: first, if given, are the
// actions that may open it (Timeout on a tick, ClientRequest on a
// propose); then BecomeLeader, AdvanceCommitIndex, and receiving any
// message of the bag addressed to i. The last state must agree with want
// and hold every reply the node sent. It returns the sequence (empty if
// s0 itself will do; nil if none does) and how many states it explored.
func (tv *tracer) search(s0 *spec.State, i int, first []spec.Action, want *spec.Server, replies []spec.Packed) ([]spec.Action, int) {
	before := &s0.Servers[i]
	done := func(t *spec.State) bool {
		if !agree(want, &t.Servers[i], before) {
			return false
		}
		for _, r := range replies {
			if t.Count(r) == 0 {
				return false
			}
		}
		return true
	}
	if done(s0) {
		return []spec.Action{}, 1
	}
	clear(tv.seen)
	nodes := append(tv.buf[:0], searchNode{st: *s0, parent: -1})
	defer func() { tv.buf = nodes[:0] }()
	tv.seen[*s0] = true
	var t spec.State
	found := -1
	push := func(from int, a spec.Action) bool {
		if tv.seen[t] {
			return false
		}
		tv.seen[t] = true
		nodes = append(nodes, searchNode{st: t, parent: from, act: a, depth: nodes[from].depth + 1})
		if done(&t) {
			found = len(nodes) - 1
			return true
		}
		return false
	}
	for _, a := range first {
		if tv.p.Apply(s0, &t, a) && push(0, a) {
			break
		}
	}
	for k := 0; found < 0 && k < len(nodes); k++ {
		if nodes[k].depth >= SearchDepth {
			continue
		}
		st := nodes[k].st // a copy: push grows nodes
		for _, a := range [...]spec.Action{{Kind: spec.ActBecomeLeader, I: uint8(i)}, {Kind: spec.ActAdvanceCommitIndex, I: uint8(i)}} {
			if tv.p.Apply(&st, &t, a) && push(k, a) {
				break
			}
		}
		for j := 0; found < 0 && j < int(st.NMsgs); j++ {
			m := st.Msgs[j]
			if int(m.Dst()) != i {
				continue
			}
			if kind, ok := tv.p.Receive(&st, &t, m); ok && push(k, spec.Action{Kind: kind, I: uint8(i), J: m.Src(), Msg: m &^ 0xf}) {
				break
			}
		}
	}
	if found < 0 {
		return nil, len(nodes)
	}
	var path []spec.Action
	for k := found; k > 0; k = nodes[k].parent {
		path = append(path, nodes[k].act)
	}
	return path, len(nodes)
}

// couldSend says whether server i in state sv could send the request k
// by the spec's RequestVote or AppendEntries. Whether the peer already
// answered (RequestVote) and nextIndex (AppendEntries) are taken from the
// message: the core keeps no record of the first, and the second is not
// compared.
func (tv *tracer) couldSend(sv *spec.Server, i int, k spec.Packed) bool {
	s, t := tv.p.Init(), spec.State{}
	s.Servers[i] = *sv
	j := int(k.Dst())
	ok := false
	switch k.Type() {
	case spec.MsgRequestVote:
		s.Servers[i].VotesResponded &^= 1 << j
		ok = tv.p.RequestVote(&s, &t, i, j)
	case spec.MsgAppendEntries:
		s.Servers[i].NextIndex[j] = k.Unpack().PrevLogIndex + 1
		ok = tv.p.AppendEntries(&s, &t, i, j)
	}
	return ok && t.Count(k) == 1 && t.NMsgs == 1
}

// agree says whether the spec state got matches the mapped state want of
// the core, given the mapped state before the step (the projection):
// currentTerm, state, votedFor, log and commitIndex always; a
// candidate's votesGranted; a leader's matchIndex of the others, where
// the core keeps the greater of the value before and the spec's (it never
// lowers matchIndex). nextIndex is not compared.
func agree(want, got, before *spec.Server) bool {
	if want.CurrentTerm != got.CurrentTerm || want.State != got.State || want.VotedFor != got.VotedFor ||
		want.LogLen != got.LogLen || want.Log != got.Log || want.CommitIndex != got.CommitIndex {
		return false
	}
	switch want.State {
	case spec.Candidate:
		return want.VotesGranted == got.VotesGranted
	case spec.Leader:
		same := before.State == spec.Leader && before.CurrentTerm == got.CurrentTerm
		for j := range want.MatchIndex {
			m := got.MatchIndex[j]
			if same {
				m = max(m, before.MatchIndex[j])
			}
			if want.MatchIndex[j] != m {
				return false
			}
		}
	}
	return true
}

// The refinement mapping. A core term t is spec term t+1 (the core starts
// in term 0, raft.tla in term 1); the term of no entry (index 0) is 0 in
// both. Command k is value k. Values, terms and indices must fit the
// spec's 4 bits, and a log spec.MaxLog entries; a snapshot has no spec
// counterpart.

func specTerm(t int) int { return t + 1 }

func specLogTerm(t int) int {
	if t == 0 {
		return 0
	}
	return t + 1
}

const maxField = 15

// mapState maps node i's state st to a spec.Server, or says why it is
// out of the spec's bounds.
func (tv *tracer) mapState(i int, st *raft.NodeState) (spec.Server, string) {
	var sv spec.Server
	switch {
	case st.Base > 0:
		return sv, fmt.Sprintf("a snapshot through %d", st.Base)
	case specTerm(st.Term) > maxField:
		return sv, fmt.Sprintf("term %d (spec term %d > %d)", st.Term, specTerm(st.Term), maxField)
	case len(st.Entries) > spec.MaxLog:
		return sv, fmt.Sprintf("a log of %d entries (> %d)", len(st.Entries), spec.MaxLog)
	}
	sv.CurrentTerm = uint8(specTerm(st.Term))
	sv.VotedFor = spec.Nil
	if st.VotedFor != raft.None {
		sv.VotedFor = uint8(st.VotedFor)
	}
	for k, e := range st.Entries {
		v, why := specValue(e.Command)
		if why != "" {
			return sv, why
		}
		sv.Log[k] = spec.Entry{Term: uint8(specLogTerm(e.Term)), Value: v}
	}
	sv.LogLen = uint8(len(st.Entries))
	sv.CommitIndex = uint8(st.CommitIndex)
	for j := range tv.n {
		sv.NextIndex[j] = 1 // raft.tla's Init; read only by a leader
	}
	switch {
	case st.Candidate:
		sv.State = spec.Candidate
		for j, g := range st.Votes {
			if g {
				sv.VotesGranted |= 1 << j
			}
		}
		sv.VotesResponded = sv.VotesGranted // the core keeps no other; the search never reads it
	case st.Leader:
		sv.State = spec.Leader
		for j := range tv.n {
			sv.NextIndex[j] = uint8(min(st.NextIndex[j], maxField))
			if j != i {
				sv.MatchIndex[j] = uint8(st.MatchIndex[j]) // its own is its log's end in the core, 0 in the spec
			}
		}
	}
	return sv, ""
}

func specValue(cmd any) (uint8, string) {
	v, ok := cmd.(int)
	if !ok || v < 1 || v > maxField {
		return 0, fmt.Sprintf("command %v (spec values are 1..%d)", cmd, maxField)
	}
	return uint8(v), ""
}

// mapMessage maps a message the core received to the spec messages it
// stands for. An AppendEntries with k entries is k spec requests of one
// entry each, as raft.tla's leader would send them one by one (entry k
// after prev+k-1, with commit min(leaderCommit, prev+k)); one with none is
// a heartbeat. Replies carry no fast-backup hint: the leader's nextIndex,
// which the hint sets, is not compared.
func mapMessage(m *raft.Message) ([]spec.Packed, string) {
	fit := func(vs ...int) bool {
		for _, v := range vs {
			if v > maxField {
				return false
			}
		}
		return true
	}
	out := spec.Msg{Term: uint8(specTerm(m.Term)), Src: uint8(m.From), Dst: uint8(m.To)}
	if !fit(specTerm(m.Term)) {
		return nil, fmt.Sprintf("term %d (spec term %d > %d)", m.Term, specTerm(m.Term), maxField)
	}
	switch m.Kind {
	case raft.MsgRequestVote:
		if m.LastLogIndex > spec.MaxLog {
			return nil, fmt.Sprintf("last log index %d > %d", m.LastLogIndex, spec.MaxLog)
		}
		out.Type, out.LastLogIndex, out.LastLogTerm = spec.MsgRequestVote, uint8(m.LastLogIndex), uint8(specLogTerm(m.LastLogTerm))
	case raft.MsgRequestVoteReply:
		out.Type, out.VoteGranted = spec.MsgRequestVoteReply, m.VoteGranted
	case raft.MsgAppendEntriesReply:
		if m.MatchIndex > spec.MaxLog {
			return nil, fmt.Sprintf("match index %d > %d", m.MatchIndex, spec.MaxLog)
		}
		out.Type, out.Success, out.MatchIndex = spec.MsgAppendEntriesReply, m.Success, uint8(m.MatchIndex)
	case raft.MsgAppendEntries:
		if end := m.PrevLogIndex + len(m.Entries); end > spec.MaxLog || !fit(m.LeaderCommit) {
			return nil, fmt.Sprintf("entries through %d, commit %d (> %d)", end, m.LeaderCommit, spec.MaxLog)
		}
		out.Type = spec.MsgAppendEntries
		prev, prevTerm := m.PrevLogIndex, m.PrevLogTerm
		if len(m.Entries) == 0 {
			out.PrevLogIndex, out.PrevLogTerm, out.CommitIndex = uint8(prev), uint8(specLogTerm(prevTerm)), uint8(min(m.LeaderCommit, prev))
			return []spec.Packed{out.Pack()}, ""
		}
		var ps []spec.Packed
		for k, e := range m.Entries {
			v, why := specValue(e.Command)
			if why != "" {
				return nil, why
			}
			out.PrevLogIndex, out.PrevLogTerm = uint8(prev+k), uint8(specLogTerm(prevTerm))
			out.HasEntry, out.Entry = true, spec.Entry{Term: uint8(specLogTerm(e.Term)), Value: v}
			out.CommitIndex = uint8(min(m.LeaderCommit, prev+k+1))
			ps = append(ps, out.Pack())
			prevTerm = e.Term
		}
		return ps, ""
	default:
		return nil, m.Kind.String() + " (the spec has no snapshots)"
	}
	return []spec.Packed{out.Pack()}, ""
}

// String is the stats in one line, actions sorted by name.
func (t TraceStats) String() string {
	var as []string
	for a, k := range t.Actions {
		as = append(as, fmt.Sprintf("%s %d", a, k))
	}
	sort.Strings(as)
	s := fmt.Sprintf("%d steps (%d stuttering) and %d starts validated; actions: %s; longest sequence %d",
		t.Steps, t.Stutters, t.Restarts, strings.Join(as, ", "), t.Longest)
	if t.OutOfBounds > 0 || t.Why != "" {
		s += fmt.Sprintf("; out of the spec's bounds from event %d: %s", t.OutOfBounds, t.Why)
	}
	return s
}
