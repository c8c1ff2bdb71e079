package mc

import (
	"errors"
	"fmt"
	"testing"
)

// jugs is the water-jug puzzle (a 3-litre and a 5-litre jug; measure 4
// litres): small enough to enumerate by hand, with a known shortest
// solution of 6 steps.
type jugs struct {
	stepProp bool // report the goal as a step property instead of a state property
	failNext bool // Next fails: a model error
}

type jugState struct{ Small, Big int8 }

func (m jugs) Init() ([]jugState, error)           { return []jugState{{}}, nil }
func (m jugs) NewWorker() Worker[jugState, string] { return m }

func (m jugs) Next(s *jugState, yield func(string, *jugState)) error {
	if m.failNext {
		return errors.New("jugs: broken")
	}
	const cs, cb = 3, 5
	try := func(a string, t jugState) {
		if t != *s {
			yield(a, &t)
		}
	}
	try("FillSmall", jugState{cs, s.Big})
	try("FillBig", jugState{s.Small, cb})
	try("EmptySmall", jugState{0, s.Big})
	try("EmptyBig", jugState{s.Small, 0})
	n := min(s.Small, cb-s.Big)
	try("SmallToBig", jugState{s.Small - n, s.Big + n})
	n = min(s.Big, cs-s.Small)
	try("BigToSmall", jugState{s.Small + n, s.Big - n})
	return nil
}

func (m jugs) Encode(dst []byte, s *jugState) []byte { return append(dst, byte(s.Small), byte(s.Big)) }
func (m jugs) Decode(b []byte, s *jugState) error {
	if len(b) != 2 {
		return fmt.Errorf("jugs: bad encoding %v", b)
	}
	*s = jugState{int8(b[0]), int8(b[1])}
	return nil
}
func (m jugs) Check(s *jugState) error {
	if !m.stepProp && s.Big == 4 {
		return errors.New("Big == 4")
	}
	return nil
}
func (m jugs) CheckStep(prev *jugState, a string, next *jugState) error {
	if m.stepProp && next.Big == 4 && prev.Big != 4 {
		return fmt.Errorf("%s made Big 4", a)
	}
	return nil
}

// plainDepth is the simple twin: a map-based BFS giving the depth of the
// first state with Big == 4 and the number of reachable states.
func plainDepth() (goal, reachable int) {
	m := jugs{}
	dist := map[jugState]int{{}: 0}
	queue := []jugState{{}}
	goal = -1
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		if s.Big == 4 && goal < 0 {
			goal = dist[s]
		}
		m.Next(&s, func(_ string, t *jugState) {
			if _, ok := dist[*t]; !ok {
				dist[*t] = dist[s] + 1
				queue = append(queue, *t)
			}
		})
	}
	return goal, len(dist)
}

func TestShortestViolation(t *testing.T) {
	want, _ := plainDepth()
	for _, workers := range []int{1, 2} {
		for _, step := range []bool{false, true} {
			res, err := Run[jugState, string](jugs{stepProp: step}, Options{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			v := res.Violation
			if v == nil {
				t.Fatalf("workers %d step %v: no violation found, want one at depth %d", workers, step, want)
			}
			if got := len(v.Trace) - 1; got != want {
				t.Errorf("workers %d step %v: trace of %d steps, want %d (plain BFS)", workers, step, got, want)
			}
			// The trace must be a real path of the model ending in the violation.
			m := jugs{}
			for i := 1; i < len(v.Trace); i++ {
				ok := false
				m.Next(&v.Trace[i-1].State, func(a string, s *jugState) {
					ok = ok || a == v.Trace[i].Action && *s == v.Trace[i].State
				})
				if !ok {
					t.Fatalf("trace step %d (%s → %v) is not a step of the model", i, v.Trace[i].Action, v.Trace[i].State)
				}
			}
			if last := v.Trace[len(v.Trace)-1].State; last.Big != 4 {
				t.Errorf("trace ends in %v, want Big == 4", last)
			}
			if res.Stopped != "violation" || res.Complete {
				t.Errorf("Stopped = %q, Complete = %v; want violation, false", res.Stopped, res.Complete)
			}
		}
	}
}

// exhaust has no violation: the checker must visit every reachable state.
type exhaust struct{ jugs }

func (exhaust) Check(*jugState) error                        { return nil }
func (exhaust) CheckStep(*jugState, string, *jugState) error { return nil }
func (m exhaust) NewWorker() Worker[jugState, string]        { return m }

func TestExhaustive(t *testing.T) {
	_, want := plainDepth()
	for _, workers := range []int{1, 2, 3} {
		res, err := Run[jugState, string](exhaust{}, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if res.Distinct != int64(want) || !res.Complete || res.Violation != nil {
			t.Errorf("workers %d: Distinct = %d, Complete = %v, Violation = %v; want %d, true, nil",
				workers, res.Distinct, res.Complete, res.Violation, want)
		}
	}
}

func TestLimits(t *testing.T) {
	res, err := Run[jugState, string](exhaust{}, Options{MaxDepth: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Stopped != "max depth" || res.Depth != 2 {
		t.Errorf("MaxDepth 2: Complete %v, Stopped %q, Depth %d; want false, max depth, 2", res.Complete, res.Stopped, res.Depth)
	}
	if _, err := Run[jugState, string](jugs{failNext: true}, Options{}); err == nil {
		t.Error("a failing Next gave no error")
	}
	if _, err := Run[jugState, string](exhaust{}, Options{MaxStates: -1}); err == nil {
		t.Error("a negative limit gave no error")
	}
}

func TestFPSetGrows(t *testing.T) {
	s := newFPSet(0)
	const n = 100000
	for i := uint64(1); i <= n; i++ {
		if !s.insert(Fingerprint([]byte(fmt.Sprint(i))), i) {
			t.Fatalf("insert %d: reported as seen", i)
		}
	}
	for i := uint64(1); i <= n; i++ {
		fp := Fingerprint([]byte(fmt.Sprint(i)))
		if s.insert(fp, 0) {
			t.Fatalf("re-insert %d: reported as new", i)
		}
		if p, ok := s.parent(fp); !ok || p != i {
			t.Fatalf("parent(%d) = %d, %v; want %d, true", i, p, ok, i)
		}
	}
	if s.len() != n {
		t.Errorf("len = %d, want %d", s.len(), n)
	}
}
