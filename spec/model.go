package spec

import (
	"errors"
	"fmt"

	"github.com/raftspec/raftspec/spec/mc"
)

// Action is the label of one step: which action, with which arguments.
// I and J are servers, V a value, Msg the message received, duplicated or
// dropped.
type Action struct {
	Kind ActionKind
	I, J uint8
	V    uint8
	Msg  Packed
}

// String is the step as in raft.tla, servers named n0..n(n-1).
func (a Action) String() string {
	switch a.Kind {
	case ActTimeout, ActRestart, ActBecomeLeader, ActAdvanceCommitIndex:
		return fmt.Sprintf("%s(n%d)", a.Kind, a.I)
	case ActRequestVote, ActAppendEntries:
		return fmt.Sprintf("%s(n%d, n%d)", a.Kind, a.I, a.J)
	case ActClientRequest:
		return fmt.Sprintf("%s(n%d, v%d)", a.Kind, a.I, a.V)
	}
	return fmt.Sprintf("%s(%s)", a.Kind, a.Msg.key().Unpack())
}

// Model is the spec as an mc.Model.
type Model struct {
	*Spec
}

var _ mc.Model[State, Action] = Model{}

// NewModel returns the model of cfg.
func NewModel(cfg Config) (Model, error) {
	p, err := NewSpec(cfg)
	return Model{p}, err
}

// Init returns raft.tla's single initial state.
func (m Model) Init() ([]State, error) { return []State{m.Spec.Init()}, nil }

// NewWorker returns a worker with its own scratch space.
func (m Model) NewWorker() mc.Worker[State, Action] { return newWorker(m.Spec) }

// worker is one goroutine's half of the model.
type worker struct {
	p    *Spec
	t    State
	perm permScratch
	prop propScratch
	// overflow is set when an action of Next outgrew the bag. It is a
	// field, not a local of Next, so that the loop does not carry it in
	// registers across every call (2-3% of Next; BenchmarkNext).
	overflow bool
}

func newWorker(p *Spec) *worker { return &worker{p: p} }

var errBag = errors.New("spec: more than MaxBag distinct messages in flight; raise spec.MaxBag or tighten the bounds")

// Next enumerates raft.tla's Next: every enabled action, in a fixed order.
// An action whose successor outgrows the bag is not yielded, and Next
// returns errBag once it has yielded the others.
func (w *worker) Next(s *State, yield func(Action, *State)) error {
	p, t, n := w.p, &w.t, w.p.n
	w.overflow = false
	emit := func(a Action) {
		if t.NMsgs > MaxBag {
			w.overflow = true
			return
		}
		yield(a, t)
	}
	for i := 0; i < n; i++ {
		if p.Timeout(s, t, i) {
			emit(Action{Kind: ActTimeout, I: uint8(i)})
		}
		if p.Restart(s, t, i) {
			emit(Action{Kind: ActRestart, I: uint8(i)})
		}
		for j := 0; j < n; j++ {
			if p.RequestVote(s, t, i, j) {
				emit(Action{Kind: ActRequestVote, I: uint8(i), J: uint8(j)})
			}
		}
		if p.BecomeLeader(s, t, i) {
			emit(Action{Kind: ActBecomeLeader, I: uint8(i)})
		}
		for v := 1; v <= p.cfg.Values; v++ {
			if p.ClientRequest(s, t, i, uint8(v)) {
				emit(Action{Kind: ActClientRequest, I: uint8(i), V: uint8(v)})
			}
		}
		if p.AdvanceCommitIndex(s, t, i) {
			emit(Action{Kind: ActAdvanceCommitIndex, I: uint8(i)})
		}
		for j := 0; j < n; j++ {
			if p.AppendEntries(s, t, i, j) {
				emit(Action{Kind: ActAppendEntries, I: uint8(i), J: uint8(j)})
			}
		}
	}
	for k := 0; k < int(s.NMsgs); k++ {
		m := s.Msgs[k]
		if kind, ok := p.Receive(s, t, m); ok {
			emit(Action{Kind: kind, I: m.Dst(), J: m.Src(), Msg: m.key()})
		}
		if p.DuplicateMessage(s, t, m) {
			emit(Action{Kind: ActDuplicateMessage, Msg: m.key()})
		}
		if p.DropMessage(s, t, m) {
			emit(Action{Kind: ActDropMessage, Msg: m.key()})
		}
	}
	if w.overflow {
		return errBag
	}
	return nil
}
