package mc

import "fmt"

// rebuild turns a recorded violation into a trace of concrete states. The
// fingerprint set holds, for each state, the state it was first reached
// from; the chain of fingerprints back to an initial state is replayed
// forward through the model, at each step taking the successor whose
// fingerprint is the next one in the chain. Replaying concrete states (not
// the canonical representatives kept in the queue) keeps server names
// consistent from step to step under symmetry reduction.
func (c *checker[S, A]) rebuild(f *found) (*Violation[S, A], error) {
	last := f.fp
	if f.step {
		last = f.parentFP
	}
	var chain []uint64 // reversed: last state first
	for fp := last; fp != 0; {
		chain = append(chain, fp)
		p, ok := c.seen.parent(fp)
		if !ok {
			return nil, fmt.Errorf("mc: rebuilding the trace: state %#x not in the set", fp)
		}
		fp = p
		if len(chain) > int(c.depth.Load())+2 {
			return nil, fmt.Errorf("mc: rebuilding the trace: parent chain longer than the search depth")
		}
	}
	w := c.m.NewWorker()
	inits, err := c.m.Init()
	if err != nil {
		return nil, err
	}
	var enc []byte
	var trace []Step[S, A]
	for i := range inits {
		enc = w.Encode(enc[:0], &inits[i])
		if Fingerprint(enc) == chain[len(chain)-1] {
			trace = append(trace, Step[S, A]{State: inits[i]})
			break
		}
	}
	if trace == nil {
		return nil, fmt.Errorf("mc: rebuilding the trace: no initial state matches")
	}
	// follow finds the successor of cur with fingerprint fp (and, for the
	// final step of a step violation, the one whose step breaks a property).
	follow := func(cur *S, fp uint64, mustFail bool) (Step[S, A], bool, error) {
		var st Step[S, A]
		ok := false
		err := w.Next(cur, func(a A, s *S) {
			if ok {
				return
			}
			enc = w.Encode(enc[:0], s)
			if Fingerprint(enc) != fp {
				return
			}
			if mustFail && w.CheckStep(cur, a, s) == nil {
				return
			}
			st = Step[S, A]{Action: a, State: *s}
			ok = true
		})
		return st, ok, err
	}
	for k := len(chain) - 2; k >= 0; k-- {
		st, ok, err := follow(&trace[len(trace)-1].State, chain[k], false)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("mc: rebuilding the trace: step %d not reproducible (is the model deterministic?)", len(trace))
		}
		trace = append(trace, st)
	}
	if f.step {
		st, ok, err := follow(&trace[len(trace)-1].State, f.fp, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("mc: rebuilding the trace: violating step not reproducible")
		}
		trace = append(trace, st)
	}
	// The search checked the state it kept, which under symmetry reduction
	// is a renaming of the trace's last state: check the trace's own, so
	// that the report names what the trace shows.
	err = f.err
	end := &trace[len(trace)-1]
	if f.step {
		if e := w.CheckStep(&trace[len(trace)-2].State, end.Action, &end.State); e != nil {
			err = e
		}
	} else if e := w.Check(&end.State); e != nil {
		err = e
	}
	return &Violation[S, A]{Err: err, Trace: trace}, nil
}
