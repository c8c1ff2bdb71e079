package spec

import (
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
