package raft

import (
	"testing"

	"github.com/raftspec/raftspec/invariants"
)

// BenchmarkCoreAgreement measures the core behind its Node contract, with
// no driver: a leader of three nodes proposes one command and the cluster
// exchanges every message until it commits (coreNet.flush: Ready, save,
// Advance, Step), with the log compacted every 100 entries. One op is one
// agreement (about 10 transitions). Compare builds with and without
// -tags invariants to see what the hooks cost, and that without the tag
// they cost nothing:
//
//	go test -run XXX -bench CoreAgreement -count 6 ./raft/
//	go test -tags invariants -run XXX -bench CoreAgreement -count 6 ./raft/
//
// With the tag, an invariants Observer is installed, so the figure
// includes every check. "Not slower than before" is measured against the
// core with its hook calls removed (the script in docs/measure/README.md
// writes that variant as a go build overlay).
func BenchmarkCoreAgreement(b *testing.B) {
	cn := newObservedNet(nil, 3, invariants.NewObserver())
	cn.fatal = func(err error) { b.Fatal(err) }
	l := cn.elect(0)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		// To the core itself: Node.Propose would first check that gob can
		// encode i (about a fifth of an op), which is the cost of the
		// caller's Start, not of the agreement measured here.
		l.Propose(i)
		cn.flush()
		cn.tick(l.id)
		for _, r := range cn.nodes {
			cn.takeApplied(r.id) // the service takes what flush collected
			if r.lastApplied-r.log.base >= 100 {
				if err := cn.ns[r.id].Snapshot(r.lastApplied, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	if l.commitIndex < b.N {
		b.Fatalf("commitIndex %d after %d proposals", l.commitIndex, b.N)
	}
}
