package spec

import (
	"fmt"
	"math/rand"
	"slices"
	"testing"

	"github.com/raftspec/raftspec/spec/mc"
)

// BenchmarkCheck explores whole configurations and reports distinct
// states per second (wall time, both cores). Run:
//
//	go test ./spec -run '^$' -bench Check -benchtime 1x -count 5
//
// and quote the median. "headline" is the configuration of docs/spec.md:
// 3 servers, 1 value, max term 2, max log 2, no faults, symmetry on.
func BenchmarkCheck(b *testing.B) {
	for _, bc := range []struct {
		name string
		cfg  Config
	}{
		{"headline", Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 2, Symmetry: true}},
		{"maxterm3-inflight1", Config{Servers: 3, Values: 1, MaxTerm: 3, MaxLog: 2, MaxInFlight: 1, Symmetry: true}},
		{"figure8", Config{Servers: 3, Values: 1, MaxTerm: 4, MaxLog: 1, MaxInFlight: 1, Symmetry: true, Bug: BugFigure8}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			m, err := NewModel(bc.cfg)
			if err != nil {
				b.Fatal(err)
			}
			var states int64
			var secs float64
			for i := 0; i < b.N; i++ {
				res, err := mc.Run[State, Action](m, mc.Options{})
				if err != nil {
					b.Fatal(err)
				}
				states += res.Distinct
				secs += res.Elapsed.Seconds()
			}
			b.ReportMetric(float64(states)/float64(b.N), "states")
			b.ReportMetric(float64(states)/secs, "states/s")
		})
	}
}

// BenchmarkNext times Next alone over the first 20,000 states of the
// headline configuration, per state expanded.
func BenchmarkNext(b *testing.B) {
	cfg := Config{Servers: 3, Values: 1, MaxTerm: 2, MaxLog: 2, Symmetry: true}
	states := reachable(b, cfg, 20000)
	m, _ := NewModel(cfg)
	w := m.NewWorker()
	n := 0
	for b.Loop() {
		s := &states[n%len(states)]
		n++
		if err := w.Next(s, func(Action, *State) {}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSortBag compares sortBag's two sorts on bags as Encode sees
// them: sorted, then renamed. "renamed" is three servers in rotation,
// all four message types, three terms; "reversed" is five servers in
// reverse, one type and term: insertion sort's worst case.
func BenchmarkSortBag(b *testing.B) {
	r := rand.New(rand.NewSource(1))
	for _, in := range []struct {
		name    string
		servers int
		types   int
		terms   int
		perm    [MaxServers]uint8
	}{
		{"renamed", 3, 4, 3, [MaxServers]uint8{2, 0, 1}},
		{"reversed", 5, 1, 1, [MaxServers]uint8{4, 3, 2, 1, 0}},
	} {
		for _, n := range []int{8, 12, 32, MaxBag} {
			src := make([]Packed, n)
			for k := range src {
				m := Msg{Type: MsgAppendEntriesReply - MsgType(r.Intn(in.types)), Term: uint8(1 + r.Intn(in.terms)),
					Src: uint8(r.Intn(in.servers)), Dst: uint8(r.Intn(in.servers)), MatchIndex: uint8(r.Intn(8)), ConflictIndex: uint8(r.Intn(8))}
				src[k] = m.Pack() | 1
			}
			slices.Sort(src)
			for k, m := range src {
				src[k] = m.withEnds(in.perm[m.Src()], in.perm[m.Dst()])
			}
			buf := make([]Packed, n)
			for _, sort := range []struct {
				name string
				f    func([]Packed)
			}{{"sortBag", sortBag}, {"insertion", insertionSort}, {"slices.Sort", slices.Sort[[]Packed]}} {
				b.Run(fmt.Sprintf("%s/%d/%s", in.name, n, sort.name), func(b *testing.B) {
					for b.Loop() {
						copy(buf, src)
						sort.f(buf)
					}
				})
			}
		}
	}
}
