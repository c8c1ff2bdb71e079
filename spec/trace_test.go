package spec

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/spec/mc"
)

func forgetVote(t *testing.T) (Model, *mc.Violation[State, Action]) {
	t.Helper()
	cfg := Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 0, MaxInFlight: 1, Symmetry: true, Bug: BugForgetVote}
	m, _ := NewModel(cfg)
	res := run(t, cfg, mc.Options{Workers: 1})
	if res.Violation == nil {
		t.Fatal("forget-vote not found")
	}
	return m, res.Violation
}

// The text trace: the violation, then numbered steps from Init, each with
// its action and only what it changed.
func TestWriteTrace(t *testing.T) {
	m, v := forgetVote(t)
	var b bytes.Buffer
	if err := m.WriteTrace(&b, v); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "ElectionSafety violated at ") {
		t.Errorf("first line %q, want the violation", lines[0])
	}
	if !strings.Contains(out, "  0. Init\n") || !strings.Contains(out, "\n 12. BecomeLeader(n") {
		t.Errorf("trace lacks step 0 (Init) or step 12 (BecomeLeader):\n%s", out)
	}
	// A Timeout changes the term, the role, the vote and the tallies of
	// one server: its line says so, and says nothing of its log.
	for k, l := range lines {
		if strings.Contains(l, ". Timeout(n") {
			next := lines[k+1]
			if !strings.Contains(next, "currentTerm 2, state Candidate, votedFor n") || strings.Contains(next, "log") {
				t.Errorf("Timeout's changes: %q", next)
			}
			break
		}
	}
	// The restart that forgets the vote shows votedFor Nil.
	if !strings.Contains(out, ". Restart(n") || !strings.Contains(out, "votedFor Nil") {
		t.Errorf("no restart forgetting a vote in the trace:\n%s", out)
	}
}

// The JSON trace carries the property and every step, with changed
// variables as values.
func TestJSONTrace(t *testing.T) {
	m, v := forgetVote(t)
	var b bytes.Buffer
	if err := m.WriteJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	var got JSONTrace
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if got.Property != invariants.ElectionSafetyName || got.Term != 2 || len(got.Nodes) != 2 {
		t.Errorf("property %q term %d nodes %v, want ElectionSafety, 2, two nodes", got.Property, got.Term, got.Nodes)
	}
	if len(got.Steps) != len(v.Trace) || got.Steps[0].Action != "Init" || got.Steps[len(got.Steps)-1].Action != "BecomeLeader" {
		t.Fatalf("%d steps from %q to %q, want %d from Init to BecomeLeader", len(got.Steps), got.Steps[0].Action, got.Steps[len(got.Steps)-1].Action, len(v.Trace))
	}
	var sawMsg bool
	for _, st := range got.Steps {
		for _, c := range st.Changed {
			if c.Var == "messages" && c.Op == "add" {
				m, ok := c.Value.(map[string]any)
				sawMsg = ok && m["type"] != nil && m["src"] != nil
			}
		}
	}
	if !sawMsg {
		t.Error("no message added in the JSON trace")
	}
	if last := got.Steps[len(got.Steps)-1]; last.Args["i"] == nil {
		t.Errorf("last step's args %v, want the server", last.Args)
	}
}

func TestDescribeServer(t *testing.T) {
	p, err := NewSpec(Config{Servers: 3, Values: 2, MaxTerm: 3, MaxLog: 2})
	if err != nil {
		t.Fatal(err)
	}
	s := p.Init()
	var u State
	if !p.Timeout(&s, &u, 1) {
		t.Fatal("Timeout(n1) not enabled in Init")
	}
	got := p.DescribeServer(&u, 1)
	want := "n1: currentTerm 2, state Candidate, votedFor n1, log [], commitIndex 0, votesResponded {n1}, votesGranted {n1}, nextIndex [1 1 1], matchIndex [0 0 0]"
	if got != want {
		t.Errorf("DescribeServer = %q, want %q", got, want)
	}
	if ch := p.Changes(&s, &u); len(ch) != 1 || ch[0] != "n1: currentTerm 2, state Candidate, votedFor n1, votesResponded {n1}, votesGranted {n1}" {
		t.Errorf("Changes = %q", ch)
	}
}
