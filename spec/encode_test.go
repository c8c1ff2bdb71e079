package spec

import (
	"bytes"
	"sort"
	"testing"

	"github.com/raftspec/raftspec/spec/mc"
)

// permute renames the servers of s: server i becomes pi[i]. It is written
// independently of encodePerm, as the simple twin of its renaming.
func permute(s *State, n int, pi []int) State {
	var t State
	ren := func(set uint8) uint8 {
		var r uint8
		for i := 0; i < n; i++ {
			if set&(1<<i) != 0 {
				r |= 1 << pi[i]
			}
		}
		return r
	}
	for i := 0; i < n; i++ {
		sv := s.Servers[i]
		nv := sv
		if sv.VotedFor != Nil {
			nv.VotedFor = uint8(pi[sv.VotedFor])
		}
		nv.VotesResponded, nv.VotesGranted = ren(sv.VotesResponded), ren(sv.VotesGranted)
		for j := 0; j < n; j++ {
			nv.NextIndex[pi[j]], nv.MatchIndex[pi[j]] = sv.NextIndex[j], sv.MatchIndex[j]
		}
		t.Servers[pi[i]] = nv
	}
	t.NMsgs = s.NMsgs
	for k, p := range s.Msgs[:s.NMsgs] {
		m := p.key().Unpack()
		m.Src, m.Dst = uint8(pi[m.Src]), uint8(pi[m.Dst])
		t.Msgs[k] = m.Pack() | Packed(p.Count())
	}
	sort.Slice(t.Msgs[:t.NMsgs], func(a, b int) bool { return t.Msgs[a] < t.Msgs[b] })
	for term := range s.LeadersIn {
		t.LeadersIn[term] = ren(s.LeadersIn[term])
	}
	t.NCommitted, t.Committed = s.NCommitted, s.Committed
	return t
}

// reachable returns the states of cfg within limit, by a plain BFS over
// whole States as map keys: no encoding, no fingerprint, no symmetry.
func reachable(t testing.TB, cfg Config, limit int) []State {
	t.Helper()
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	w := m.NewWorker()
	init, _ := m.Init()
	seen := map[State]bool{init[0]: true}
	queue := []State{init[0]}
	for k := 0; k < len(queue) && len(queue) < limit; k++ {
		s := queue[k]
		if err := w.Next(&s, func(_ Action, u *State) {
			if !seen[*u] {
				seen[*u] = true
				queue = append(queue, *u)
			}
		}); err != nil {
			t.Fatal(err)
		}
	}
	return queue
}

var allPerms3 = [][]int{{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}}

// Encoding then decoding gives the state back, when the encoding keeps
// everything (no symmetry, dead variables kept).
func TestEncodeRoundTrip(t *testing.T) {
	cfg := Config{Servers: 3, Values: 2, MaxTerm: 3, MaxLog: 2, MaxInFlight: 2, FastBackup: true, FingerprintDeadVars: true}
	m, _ := NewModel(cfg)
	w := m.NewWorker()
	var enc []byte
	for _, s := range reachable(t, cfg, 20000) {
		enc = w.Encode(enc[:0], &s)
		var d State
		if err := w.Decode(enc, &d); err != nil {
			t.Fatalf("Decode(Encode(%+v)): %v", s, err)
		}
		if d != s {
			t.Fatalf("Decode(Encode(s)) = %+v, want %+v", d, s)
		}
	}
	var d State
	if err := w.Decode(enc[:len(enc)-1], &d); err == nil {
		t.Error("Decode of a truncated encoding gave no error")
	}
	if err := w.Decode(append(enc, 0), &d); err == nil {
		t.Error("Decode of an encoding with a byte left over gave no error")
	}
}

// With symmetry, every renaming of a state has the same encoding, and the
// encoding decodes to a state with that same encoding (the canonical
// representative).
func TestEncodeSymmetric(t *testing.T) {
	for _, dead := range []bool{false, true} {
		cfg := Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 2, MaxInFlight: 2, Symmetry: true, FingerprintDeadVars: dead, Restart: true}
		m, _ := NewModel(cfg)
		w := m.NewWorker()
		var enc, penc, denc []byte
		for _, s := range reachable(t, cfg, 20000) {
			enc = w.Encode(enc[:0], &s)
			for _, pi := range allPerms3 {
				ps := permute(&s, 3, pi)
				if penc = w.Encode(penc[:0], &ps); !bytes.Equal(penc, enc) {
					t.Fatalf("dead vars kept %v: Encode(rename %v of s) = %x, Encode(s) = %x\ns = %+v", dead, pi, penc, enc, s)
				}
			}
			var d State
			if err := w.Decode(enc, &d); err != nil {
				t.Fatal(err)
			}
			if denc = w.Encode(denc[:0], &d); !bytes.Equal(denc, enc) {
				t.Fatalf("Encode(Decode(e)) = %x, want e = %x", denc, enc)
			}
		}
	}
}

// Two different states get different encodings: the checker's count
// equals the plain BFS's over whole States, without symmetry and with the
// dead variables kept.
func TestEncodeDistinguishes(t *testing.T) {
	cfg := Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 1, MaxInFlight: 1, FingerprintDeadVars: true}
	want := len(reachable(t, cfg, 1<<20))
	res := run(t, cfg, mc.Options{})
	if res.Distinct != int64(want) || !res.Complete {
		t.Errorf("checker: %d distinct states (complete %v), plain BFS: %d", res.Distinct, res.Complete, want)
	}
}

func run(t *testing.T, cfg Config, opt mc.Options) *mc.Result[State, Action] {
	t.Helper()
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mc.Run[State, Action](m, opt)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// Symmetry reduction against the plain search, and the dead-variable
// reduction against the full fingerprint: the same verdicts, and state
// counts related as they must be (reduced ≤ plain ≤ 3!·reduced for
// symmetry over 3 servers).
func TestReductionsAgainstPlain(t *testing.T) {
	for _, tc := range []struct {
		name  string
		cfg   Config
		heavy bool // over 100,000 states in the plain search: not under -race
	}{
		{"correct", Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 1, MaxInFlight: 1}, false},
		{"correct-restart", Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 1, MaxInFlight: 1, Restart: true}, true},
		{"forget-vote", Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 0, MaxInFlight: 1, Bug: BugForgetVote}, false},
		{"vote-no-uptodate", Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 1, MaxInFlight: 1, Bug: BugVoteNoUpToDate}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.heavy && raceEnabled {
				t.Skip("over 100,000 states: not under -race")
			}
			type outcome struct {
				distinct int64
				steps    int // trace length, -1 if none
			}
			get := func(sym, dead bool) outcome {
				cfg := tc.cfg
				cfg.Symmetry, cfg.FingerprintDeadVars = sym, dead
				res := run(t, cfg, mc.Options{})
				if !res.Complete && res.Violation == nil {
					t.Fatalf("sym %v dead %v: incomplete: %s", sym, dead, res.Stopped)
				}
				o := outcome{res.Distinct, -1}
				if res.Violation != nil {
					o.steps = len(res.Violation.Trace) - 1
				}
				return o
			}
			for _, dead := range []bool{false, true} {
				plain, sym := get(false, dead), get(true, dead)
				if plain.steps != sym.steps {
					t.Errorf("dead vars kept %v: counterexample of %d steps with symmetry, %d without", dead, sym.steps, plain.steps)
				}
				if plain.steps < 0 && !(sym.distinct <= plain.distinct && plain.distinct <= 6*sym.distinct) {
					t.Errorf("dead vars kept %v: %d states with symmetry, %d without; want sym ≤ plain ≤ 6·sym", dead, sym.distinct, plain.distinct)
				}
			}
			full, reduced := get(false, true), get(false, false)
			// Merged states have the same futures, so the shortest
			// counterexample keeps its length.
			if full.steps != reduced.steps {
				t.Errorf("dead-variable reduction changed the verdict: counterexample of %d steps reduced, %d full", reduced.steps, full.steps)
			}
			if full.steps < 0 && reduced.distinct > full.distinct {
				t.Errorf("dead-variable reduction: %d states, more than %d without", reduced.distinct, full.distinct)
			}
		})
	}
}
