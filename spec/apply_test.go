package spec

import "testing"

// Apply agrees with Next: on every state of a small search, each action
// Next yields is enabled under Apply, with the same successor.
func TestApplyAgreesWithNext(t *testing.T) {
	cfg := Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 1, MaxInFlight: 1, Restart: true, Duplicate: true, Drop: true, MaxCopies: 2}
	p, err := NewSpec(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := newWorker(p)
	seen := map[State]bool{}
	queue := []State{p.Init()}
	kinds := map[ActionKind]bool{}
	for len(queue) > 0 && len(seen) < 5000 {
		s := queue[0]
		queue = queue[1:]
		if seen[s] {
			continue
		}
		seen[s] = true
		var u State
		if err := w.Next(&s, func(a Action, next *State) {
			kinds[a.Kind] = true
			if !p.Apply(&s, &u, a) || u != *next {
				t.Fatalf("Apply(%v) disagrees with Next", a)
			}
			queue = append(queue, *next)
		}); err != nil {
			t.Fatal(err)
		}
	}
	if len(kinds) < 12 {
		t.Errorf("only %d kinds of action met: %v", len(kinds), kinds)
	}
	var s, u State
	s = p.Init()
	m := Msg{Type: MsgRequestVoteReply, Term: 1, Src: 1, Dst: 0, VoteGranted: true}
	if p.Apply(&s, &u, Action{Kind: ActHandleRequestVoteResponse, I: 0, J: 1, Msg: m.Pack()}) {
		t.Error("Apply received a message that is not in the bag")
	}
	if !s.Add(m.Pack()) || s.Count(m.Pack()) != 1 || !p.Apply(&s, &u, Action{Kind: ActHandleRequestVoteResponse, I: 0, J: 1, Msg: m.Pack()}) {
		t.Error("Apply did not receive a message in the bag")
	}
}
