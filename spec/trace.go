package spec

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/spec/mc"
)

// A counterexample is printed as numbered steps, as a golden transcript
// reads: step 0 is the initial state in full; every later step is the
// action with its arguments, then only the variables it changed, with
// their new values, and the messages it removed from (-) and added to (+)
// the bag.
//
//	 7. BecomeLeader(n0)
//	      n0: state Leader, nextIndex [1 1 1]
//	 8. ClientRequest(n0, v1)
//	      n0: log [2:v1]
//
// A log is written [term:value ...]; a set of servers {n0,n1}; nextIndex
// and matchIndex as rows indexed by server.

// Change is one variable a step changed, with its new value; for the bag
// and the committed history, Op says whether Value was added or removed.
type Change struct {
	Var   string `json:"var"`
	Op    string `json:"op,omitempty"` // "add", "remove" (messages, committed)
	Value any    `json:"value"`
	text  string
}

// JSONTrace is a counterexample in JSON.
type JSONTrace struct {
	Config    string     `json:"config"`
	Property  string     `json:"property"`
	Nodes     []int      `json:"nodes,omitempty"`
	Term      int        `json:"term,omitempty"`
	Index     int        `json:"index,omitempty"`
	Violation string     `json:"violation"`
	Steps     []JSONStep `json:"steps"`
}

// JSONStep is one step of a JSONTrace. Step 0 is the initial state, with
// action "Init" and every variable.
type JSONStep struct {
	Step    int            `json:"step"`
	Action  string         `json:"action"`
	Args    map[string]any `json:"args,omitempty"`
	Text    string         `json:"text"`
	Changed []Change       `json:"changed"`
}

// Steps describes the trace of v, step by step.
func (p *Spec) Steps(v *mc.Violation[State, Action]) []JSONStep {
	var steps []JSONStep
	var zero State
	for k := range v.Trace {
		st := &v.Trace[k]
		js := JSONStep{Step: k}
		if k == 0 {
			js.Action, js.Text = "Init", "Init"
			js.Changed = p.diff(&zero, &st.State, true)
		} else {
			js.Action, js.Text, js.Args = st.Action.Kind.String(), st.Action.String(), p.args(st.Action)
			js.Changed = p.diff(&v.Trace[k-1].State, &st.State, false)
		}
		steps = append(steps, js)
	}
	return steps
}

// JSON is the counterexample v as a JSONTrace.
func (p *Spec) JSON(v *mc.Violation[State, Action]) *JSONTrace {
	t := &JSONTrace{Config: p.cfg.String(), Violation: v.Err.Error(), Steps: p.Steps(v)}
	var iv *invariants.Violation
	if errors.As(v.Err, &iv) {
		t.Property, t.Nodes, t.Term, t.Index = iv.Property, iv.Nodes, iv.Term, iv.Index
	}
	return t
}

// WriteJSON writes the counterexample v as indented JSON.
func (p *Spec) WriteJSON(w io.Writer, v *mc.Violation[State, Action]) error {
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(p.JSON(v))
}

// WriteTrace writes the counterexample v as text: the violation, then the
// numbered steps.
func (p *Spec) WriteTrace(w io.Writer, v *mc.Violation[State, Action]) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%v\n", v.Err)
	fmt.Fprintf(&b, "trace of %d steps (%s):\n", len(v.Trace)-1, p.cfg.String())
	for _, st := range p.Steps(v) {
		fmt.Fprintf(&b, "%3d. %s\n", st.Step, st.Text)
		for _, line := range lines(st.Changed) {
			fmt.Fprintf(&b, "       %s\n", line)
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// lines groups the changes of one step: one line per server, then one
// per message and per history change.
func lines(cs []Change) []string {
	var out []string
	var cur string // the server of the line being built
	var parts []string
	flush := func() {
		if cur != "" {
			out = append(out, cur+": "+strings.Join(parts, ", "))
		}
		cur, parts = "", nil
	}
	for _, c := range cs {
		srv, name, ok := strings.Cut(c.Var, ".")
		if !ok {
			flush()
			out = append(out, c.text)
			continue
		}
		if srv != cur {
			flush()
			cur = srv
		}
		parts = append(parts, name+" "+c.text)
	}
	flush()
	return out
}

func (p *Spec) args(a Action) map[string]any {
	switch a.Kind {
	case ActTimeout, ActRestart, ActBecomeLeader, ActAdvanceCommitIndex:
		return map[string]any{"i": node(a.I)}
	case ActRequestVote, ActAppendEntries:
		return map[string]any{"i": node(a.I), "j": node(a.J)}
	case ActClientRequest:
		return map[string]any{"i": node(a.I), "v": int(a.V)}
	}
	return map[string]any{"m": msgJSON(a.Msg.Unpack())}
}

func node(i uint8) string { return fmt.Sprintf("n%d", i) }

// diff lists the variables that differ between a and b (all of b's, for
// the initial state).
func (p *Spec) diff(a, b *State, all bool) []Change {
	var cs []Change
	n := p.n
	add := func(v string, val any, text string) { cs = append(cs, Change{Var: v, Value: val, text: text}) }
	for i := 0; i < n; i++ {
		x, y := &a.Servers[i], &b.Servers[i]
		pre := node(uint8(i)) + "."
		if all || x.CurrentTerm != y.CurrentTerm {
			add(pre+"currentTerm", int(y.CurrentTerm), fmt.Sprint(y.CurrentTerm))
		}
		if all || x.State != y.State {
			add(pre+"state", y.State.String(), y.State.String())
		}
		if all || x.VotedFor != y.VotedFor {
			if y.VotedFor == Nil {
				add(pre+"votedFor", nil, "Nil")
			} else {
				add(pre+"votedFor", node(y.VotedFor), node(y.VotedFor))
			}
		}
		if all || x.LogLen != y.LogLen || x.Log != y.Log {
			add(pre+"log", logJSON(y), logText(y))
		}
		if all || x.CommitIndex != y.CommitIndex {
			add(pre+"commitIndex", int(y.CommitIndex), fmt.Sprint(y.CommitIndex))
		}
		if all || x.VotesResponded != y.VotesResponded {
			add(pre+"votesResponded", setJSON(y.VotesResponded, n), setText(y.VotesResponded, n))
		}
		if all || x.VotesGranted != y.VotesGranted {
			add(pre+"votesGranted", setJSON(y.VotesGranted, n), setText(y.VotesGranted, n))
		}
		if all || x.NextIndex != y.NextIndex {
			add(pre+"nextIndex", rowJSON(&y.NextIndex, n), rowText(&y.NextIndex, n))
		}
		if all || x.MatchIndex != y.MatchIndex {
			add(pre+"matchIndex", rowJSON(&y.MatchIndex, n), rowText(&y.MatchIndex, n))
		}
	}
	// The bag: copies removed, then copies added.
	for _, m := range a.Msgs[:a.NMsgs] {
		for c := m.Count() - b.count(m.key()); c > 0; c-- {
			u := m.key().Unpack()
			cs = append(cs, Change{Var: "messages", Op: "remove", Value: msgJSON(u), text: "- " + u.String()})
		}
	}
	for _, m := range b.Msgs[:b.NMsgs] {
		for c := m.Count() - a.count(m.key()); c > 0; c-- {
			u := m.key().Unpack()
			cs = append(cs, Change{Var: "messages", Op: "add", Value: msgJSON(u), text: "+ " + u.String()})
		}
	}
	if p.cfg.NoHistory {
		return cs
	}
	for t := 1; t <= p.cfg.MaxTerm; t++ {
		if a.LeadersIn[t] != b.LeadersIn[t] {
			v := fmt.Sprintf("leadersIn[%d]", t)
			cs = append(cs, Change{Var: v, Value: setJSON(b.LeadersIn[t], n), text: v + " " + setText(b.LeadersIn[t], n)})
		}
	}
	for k := a.NCommitted; k < b.NCommitted; k++ {
		c := b.Committed[k]
		cs = append(cs, Change{Var: "committed", Op: "add",
			Value: map[string]any{"index": int(k) + 1, "term": int(c.Term), "value": int(c.Value), "inTerm": int(c.InTerm)},
			text:  fmt.Sprintf("committed %d/%d v%d (in term %d)", k+1, c.Term, c.Value, c.InTerm)})
	}
	return cs
}

func logText(sv *Server) string {
	var b strings.Builder
	b.WriteByte('[')
	for k := 0; k < int(sv.LogLen); k++ {
		if k > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:v%d", sv.Log[k].Term, sv.Log[k].Value)
	}
	b.WriteByte(']')
	return b.String()
}

func logJSON(sv *Server) []map[string]int {
	out := []map[string]int{}
	for k := 0; k < int(sv.LogLen); k++ {
		out = append(out, map[string]int{"term": int(sv.Log[k].Term), "value": int(sv.Log[k].Value)})
	}
	return out
}

func setText(set uint8, n int) string {
	var ns []string
	for i := 0; i < n; i++ {
		if set&(1<<i) != 0 {
			ns = append(ns, node(uint8(i)))
		}
	}
	return "{" + strings.Join(ns, ",") + "}"
}

func setJSON(set uint8, n int) []string {
	ns := []string{}
	for i := 0; i < n; i++ {
		if set&(1<<i) != 0 {
			ns = append(ns, node(uint8(i)))
		}
	}
	return ns
}

func rowText(r *[MaxServers]uint8, n int) string {
	return fmt.Sprint(r[:n])
}

func rowJSON(r *[MaxServers]uint8, n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = int(r[i])
	}
	return out
}

// msgJSON is m with the fields its type uses.
func msgJSON(m Msg) map[string]any {
	j := map[string]any{"type": m.Type.String(), "term": int(m.Term), "src": node(m.Src), "dst": node(m.Dst)}
	switch m.Type {
	case MsgRequestVote:
		j["lastLogTerm"], j["lastLogIndex"] = int(m.LastLogTerm), int(m.LastLogIndex)
	case MsgRequestVoteReply:
		j["voteGranted"] = m.VoteGranted
	case MsgAppendEntries:
		j["prevLogIndex"], j["prevLogTerm"], j["commitIndex"] = int(m.PrevLogIndex), int(m.PrevLogTerm), int(m.CommitIndex)
		entries := []map[string]int{}
		if m.HasEntry {
			entries = append(entries, map[string]int{"term": int(m.Entry.Term), "value": int(m.Entry.Value)})
		}
		j["entries"] = entries
	case MsgAppendEntriesReply:
		j["success"], j["matchIndex"] = m.Success, int(m.MatchIndex)
		if m.ConflictTerm != 0 || m.ConflictIndex != 0 {
			j["conflictTerm"], j["conflictIndex"] = int(m.ConflictTerm), int(m.ConflictIndex)
		}
	}
	return j
}

// DescribeServer is server i of s as a trace's step 0 writes it:
// "n1: currentTerm 2, state Follower, votedFor n0, log [2:v1], ...".
func (p *Spec) DescribeServer(s *State, i int) string {
	var zero State
	pre := node(uint8(i)) + "."
	var mine []Change
	for _, c := range p.diff(&zero, s, true) {
		if strings.HasPrefix(c.Var, pre) {
			mine = append(mine, c)
		}
	}
	return strings.Join(lines(mine), "\n")
}

// Changes is what differs from a to b, as a trace's step writes it: one
// line per server, then one per message and history change.
func (p *Spec) Changes(a, b *State) []string { return lines(p.diff(a, b, false)) }
