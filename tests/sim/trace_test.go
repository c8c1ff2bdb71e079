package sim

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/raftspec/raftspec/raft"
	"github.com/raftspec/raftspec/spec"
)

// forger is a planted bug in a test double: once, on an AppendEntries it
// handles as a follower, the node also appends an entry no leader sent
// (command 13), as if the leader had sent it in the same term.
type forger struct {
	Core
	done *bool
}

func (f forger) Step(m raft.Message) error {
	if err := f.Core.Step(m); err != nil || *f.done || m.Kind != raft.MsgAppendEntries {
		return err
	}
	st := f.Core.Status()
	if st.Leader || st.Candidate || st.Term != m.Term {
		return nil
	}
	*f.done = true
	return f.Core.Step(raft.Message{Kind: raft.MsgAppendEntries, From: m.From, To: m.To, Term: m.Term,
		PrevLogIndex: st.LastIndex, PrevLogTerm: st.LastTerm, Entries: []raft.Entry{{Term: m.Term, Command: 13}}})
}

// usurper is a planted bug in a test double: once, on a tick as a
// follower that has voted, the node moves to the next term as a follower,
// with no message of that term (it steps a heartbeat from a leader of the
// next term that nobody sent).
type usurper struct {
	Core
	done *bool
}

func (u usurper) Tick() error {
	if err := u.Core.Tick(); err != nil || *u.done {
		return err
	}
	st := u.Core.Status()
	if st.Leader || st.Candidate || st.VotedFor == raft.None || st.VotedFor == st.ID {
		return nil
	}
	*u.done = true
	return u.Core.Step(raft.Message{Kind: raft.MsgAppendEntries, From: st.VotedFor, To: st.ID, Term: st.Term + 1,
		PrevLogIndex: st.LastIndex, PrevLogTerm: st.LastTerm})
}

// echo is a planted bug in a test double that changes no state: once, on
// an AppendEntries it handles as a follower, the node also answers the
// same request as if it came from the term before (a rejection of a
// request nobody sent).
type echo struct {
	Core
	done *bool
}

func (e echo) Step(m raft.Message) error {
	if err := e.Core.Step(m); err != nil || *e.done || m.Kind != raft.MsgAppendEntries || m.Term == 0 {
		return err
	}
	if st := e.Core.Status(); st.Leader || st.Candidate {
		return nil
	}
	*e.done = true
	stale := m
	stale.Term, stale.Entries = m.Term-1, nil
	return e.Core.Step(stale)
}

// The reference core passes trace validation on many seeds of every
// schedule, and the validation is not vacuous: thousands of steps are
// validated, with every kind of spec action a core takes.
func TestTraceValidationPasses(t *testing.T) {
	seeds := uint64(200)
	if testing.Short() {
		seeds = 40
	}
	total := TraceStats{Actions: map[string]int{}}
	left, events := 0, 0
	for seed := uint64(1); seed <= seeds; seed++ {
		sc := ScheduleNames()[seed%uint64(len(schedules))]
		r, err := Run(ValidationOptions(seed, sc))
		if err != nil {
			t.Fatal(err)
		}
		if r.Err != nil {
			t.Fatalf("%v", r.Err)
		}
		if r.Trace.Steps == 0 || r.Trace.Restarts < 3 {
			t.Fatalf("%s seed %d: nothing validated: %v", sc, seed, r.Trace)
		}
		total.Steps += r.Trace.Steps
		total.Restarts += r.Trace.Restarts
		total.Stutters += r.Trace.Stutters
		total.Longest = max(total.Longest, r.Trace.Longest)
		for a, k := range r.Trace.Actions {
			total.Actions[a] += k
		}
		events += r.Events
		if r.Trace.OutOfBounds > 0 {
			left++
		}
	}
	t.Logf("%d seeds, %d events: %v; %d runs left the spec's bounds before their end", seeds, events, total, left)
	if total.Steps < 1000*int(seeds)/10 || total.Steps-total.Stutters < total.Steps/10 {
		t.Errorf("only %d steps validated in %d seeds", total.Steps, seeds)
	}
	for _, a := range []string{"Timeout", "BecomeLeader", "ClientRequest", "AdvanceCommitIndex", "UpdateTerm",
		"HandleRequestVoteRequest", "HandleRequestVoteResponse", "HandleAppendEntriesRequest", "HandleAppendEntriesResponse"} {
		if total.Actions[a] == 0 {
			t.Errorf("no step validated by %s", a)
		}
	}
	if left == int(seeds) {
		t.Errorf("every run left the spec's bounds before its end")
	}
}

// A core modified in a test double takes a step the spec forbids, and
// trace validation reports it at that step, with the seed, the node, the
// input and both mapped states. The simulator's own checks find the first
// double later, the others never.
func TestTraceValidationCatchesPlantedBugs(t *testing.T) {
	for _, tc := range []struct {
		name    string
		wrap    func(c Core, done *bool) Core
		input   string
		changes bool // the state changes illegally (else: a reply)
	}{
		{"forger", func(c Core, d *bool) Core { return forger{c, d} }, "recv AppendEntries", true},
		{"usurper", func(c Core, d *bool) Core { return usurper{c, d} }, "tick", true},
		{"echo", func(c Core, d *bool) Core { return echo{c, d} }, "recv AppendEntries", false},
	} {
		for seed := uint64(1); seed <= 10; seed++ {
			sc := ScheduleNames()[seed%uint64(len(schedules))]
			o := ValidationOptions(seed, sc)
			var done bool // one plant per run, on whichever node comes first
			o.Wrap = func(_ int, c Core) Core { return tc.wrap(c, &done) }
			r, err := Run(o)
			if err != nil {
				t.Fatal(err)
			}
			if r.Err == nil {
				if !done {
					continue // the double never acted in this run
				}
				t.Fatalf("%s seed %d (%s): the planted step was not reported", tc.name, seed, sc)
			}
			var te *TraceError
			if !errors.As(r.Err, &te) {
				t.Fatalf("%s seed %d: reported by another check: %v", tc.name, seed, r.Err)
			}
			msg := r.Err.Error()
			for _, want := range []string{"TraceValidation: n" + strconv.Itoa(te.Node) + " " + tc.input, "before: n", "after:  n",
				"seed " + strconv.FormatUint(seed, 10), "-validate"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s seed %d: the failure does not say %q:\n%s", tc.name, seed, want, msg)
				}
			}
			if tc.changes && te.Before == te.After || !tc.changes && !strings.Contains(te.Replies, "success false") {
				t.Errorf("%s seed %d: the failure does not show the illegal change or reply:\n%s", tc.name, seed, msg)
			}
			if seed == 1 {
				t.Logf("%s: %v", tc.name, r.Err)
			}
			o.Validate, done = false, false
			r2, _ := Run(o)
			if r2.Err != nil && r2.Err.Event <= r.Err.Event {
				t.Errorf("%s seed %d: without validation the run fails as early (event %d): %v", tc.name, seed, r2.Err.Event, r2.Err)
			}
		}
	}
}

// Validation changes nothing in a run: the same seed gives the same event
// log with validation on and off.
func TestTraceValidationKeepsDeterminism(t *testing.T) {
	left := 0
	for _, sc := range ScheduleNames() {
		for seed := uint64(1); seed <= 5; seed++ {
			o := ValidationOptions(seed, sc)
			o.Duration = 3 * time.Second // beyond the spec's bounds too
			var on, off bytes.Buffer
			o.Log = &on
			ra, err := Run(o)
			if err != nil || ra.Err != nil {
				t.Fatalf("%v %v", err, ra.Err)
			}
			o.Log, o.Validate = &off, false
			rb, _ := Run(o)
			if !bytes.Equal(on.Bytes(), off.Bytes()) || on.Len() == 0 {
				t.Fatalf("%s seed %d: the event log differs with validation (%d and %d bytes)", sc, seed, on.Len(), off.Len())
			}
			if ra.Events != rb.Events || ra.Virtual != rb.Virtual || ra.Commands != rb.Commands || ra.Trace.Steps == 0 || rb.Trace.Steps != 0 {
				t.Fatalf("%s seed %d: results differ: %+v, %+v", sc, seed, ra, rb)
			}
			if ra.Trace.Why != "" {
				left++
			}
		}
	}
	if left == 0 {
		t.Error("no run left the spec's bounds: the logs compared never covered a run after validation stopped")
	}
	t.Logf("%d of %d runs left the spec's bounds", left, 5*len(schedules))
}

// Where a run leaves the spec's bounds, validation stops and says so.
func TestTraceValidationBounds(t *testing.T) {
	o := ValidationOptions(1, "calm")
	o.Duration = 10 * time.Second
	r, err := Run(o)
	if err != nil || r.Err != nil {
		t.Fatalf("%v %v", err, r.Err)
	}
	if r.Trace.OutOfBounds == 0 || r.Trace.OutOfBounds > r.Events || !strings.Contains(r.Trace.Why, "log of 9 entries") {
		t.Errorf("a 10 s run should leave the spec's bounds when a log reaches 9 entries: %v", r.Trace)
	}
	o.Servers = 7
	r, _ = Run(o)
	if r.Err != nil || r.Trace.Steps != 0 || !strings.Contains(r.Trace.Why, "7 servers") {
		t.Errorf("7 servers are beyond the spec's bounds: %v", r.Trace)
	}
}

// An AppendEntries of k entries stands for k spec requests of one entry.
func TestMapMessage(t *testing.T) {
	m := raft.Message{Kind: raft.MsgAppendEntries, From: 0, To: 1, Term: 3, PrevLogIndex: 1, PrevLogTerm: 1, LeaderCommit: 2,
		Entries: []raft.Entry{{Term: 2, Command: 4}, {Term: 3, Command: 5}}}
	ps, why := mapMessage(&m)
	if why != "" {
		t.Fatal(why)
	}
	var got []string
	for _, p := range ps {
		got = append(got, p.Unpack().String())
	}
	want := []string{
		"AppendEntries n0→n1 term 4 prev 1/2 entries [3:v4] commit 2",
		"AppendEntries n0→n1 term 4 prev 2/3 entries [4:v5] commit 2",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("mapMessage = %q, want %q", got, want)
	}
	m.Entries = nil
	ps, _ = mapMessage(&m)
	if len(ps) != 1 || ps[0].Unpack().String() != "AppendEntries n0→n1 term 4 prev 1/2 entries [] commit 1" {
		t.Errorf("a heartbeat maps to %v", ps)
	}
	m.Entries = []raft.Entry{{Term: 2, Command: 16}}
	if _, why := mapMessage(&m); !strings.Contains(why, "command 16") {
		t.Errorf("command 16 has no spec value, but mapMessage says %q", why)
	}
}

func TestTraceValidationCatchesRestartFromNothing(t *testing.T) {
	caught := 0
	for seed := uint64(1); seed <= 20; seed++ {
		o := ValidationOptions(seed, "figure8")
		o.Wrap = func(_ int, c Core) Core { return forgetful{c} } // a restarted node is not in Restart of the state it crashed in
		r, err := Run(o)
		if err != nil {
			t.Fatal(err)
		}
		var te *TraceError
		if r.Err == nil || !errors.As(r.Err, &te) {
			continue // no crash within the bounds, or another check came first
		}
		if te.Input != "start" || !strings.Contains(te.Why, "Restart(n") {
			t.Fatalf("seed %d: %v", seed, r.Err)
		}
		if caught == 0 {
			t.Logf("%v", r.Err)
		}
		caught++
	}
	if caught < 5 {
		t.Errorf("trace validation caught a restart from nothing in only %d of 20 seeds", caught)
	}
}

// A request is checked against what the spec's RequestVote or
// AppendEntries would send.
func TestCouldSend(t *testing.T) {
	tv := newTracer(3)
	var sv spec.Server
	sv.CurrentTerm, sv.State, sv.VotedFor, sv.LogLen, sv.CommitIndex = 3, spec.Leader, 0, 2, 1
	sv.Log[0], sv.Log[1] = spec.Entry{Term: 2, Value: 1}, spec.Entry{Term: 3, Value: 2}
	for _, tc := range []struct {
		m    spec.Msg
		want bool
	}{
		{spec.Msg{Type: spec.MsgAppendEntries, Term: 3, Src: 0, Dst: 1, PrevLogIndex: 1, PrevLogTerm: 2, HasEntry: true, Entry: sv.Log[1], CommitIndex: 1}, true},
		{spec.Msg{Type: spec.MsgAppendEntries, Term: 3, Src: 0, Dst: 1, PrevLogIndex: 2, PrevLogTerm: 3, CommitIndex: 1}, true},
		{spec.Msg{Type: spec.MsgAppendEntries, Term: 3, Src: 0, Dst: 1, PrevLogIndex: 1, PrevLogTerm: 1, HasEntry: true, Entry: sv.Log[1], CommitIndex: 1}, false},
		{spec.Msg{Type: spec.MsgAppendEntries, Term: 3, Src: 0, Dst: 1, PrevLogIndex: 2, PrevLogTerm: 3, CommitIndex: 2}, false},
		{spec.Msg{Type: spec.MsgAppendEntries, Term: 2, Src: 0, Dst: 1, PrevLogIndex: 2, PrevLogTerm: 3, CommitIndex: 1}, false},
		{spec.Msg{Type: spec.MsgRequestVote, Term: 3, Src: 0, Dst: 1, LastLogIndex: 2, LastLogTerm: 3}, false}, // a leader does not ask for votes
	} {
		if got := tv.couldSend(&sv, 0, tc.m.Pack()); got != tc.want {
			t.Errorf("couldSend(%v) = %v, want %v", tc.m, got, tc.want)
		}
	}
	sv.State = spec.Candidate
	if !tv.couldSend(&sv, 0, (&spec.Msg{Type: spec.MsgRequestVote, Term: 3, Src: 0, Dst: 1, LastLogIndex: 2, LastLogTerm: 3}).Pack()) {
		t.Error("a candidate's RequestVote was refused")
	}
}

// BenchmarkTraceValidation runs 40 seeds of the in-bounds configuration
// (ValidationOptions, every schedule in turn) per iteration, with
// validation on and off, and reports simulated events per second of CPU.
func BenchmarkTraceValidation(b *testing.B) {
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			events, steps := 0, 0
			for range b.N {
				for seed := uint64(1); seed <= 40; seed++ {
					o := ValidationOptions(seed, ScheduleNames()[seed%uint64(len(schedules))])
					o.Validate = on
					r, err := Run(o)
					if err != nil || r.Err != nil {
						b.Fatal(err, r.Err)
					}
					events += r.Events
					steps += r.Trace.Steps
				}
			}
			b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(steps)/b.Elapsed().Seconds(), "steps/s")
		})
	}
}

// A request the spec would not send is reported. A correct core sends
// none, and a double cannot make it, so the test doubles the node's
// Inspect instead: it shows every RequestVote claiming a log one entry
// longer than the candidate's.
func TestTraceValidationCatchesBadRequest(t *testing.T) {
	s := newSim(ValidationOptions(1, "calm"))
	s.tv = newTracer(s.n)
	s.tv.inspect = func(n *raft.Node) raft.NodeState {
		st := n.Inspect()
		for k := range st.Outbox {
			if st.Outbox[k].Kind == raft.MsgRequestVote {
				st.Outbox[k].LastLogIndex++
			}
		}
		return st
	}
	s.run()
	var te *TraceError
	if !errors.As(s.err, &te) {
		t.Fatalf("want a TraceError, got %v", s.err)
	}
	if te.Input != "tick" || !strings.Contains(te.Why, "sent RequestVote") || !strings.Contains(te.Why, "lastLog 1/0 as a spec message") {
		t.Errorf("the failure does not name the request:\n%v", te)
	}
	t.Logf("%v", te)
}
