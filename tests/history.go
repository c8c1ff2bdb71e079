package tests

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/raftspec/raftspec/linearizability"
)

// linBudget bounds each porcupine check. A check that runs out is a
// failure: Unknown is never taken as Ok.
const linBudget = 30 * time.Second

// histories are the client histories a scenario recorded, checked for
// linearizability once it has ended: outside virtual time, where
// porcupine's budget is real time.
type histories struct {
	mu   sync.Mutex
	list []history
}

type history struct {
	name  string
	model porcupine.Model
	rec   *linearizability.Recorder
}

// History starts a new history of client operations, checked against
// model when the scenario ends; name says which part of the scenario it
// records. A cluster made without a place for histories checks nothing.
func (c *Cluster) History(name string, model porcupine.Model) *linearizability.Recorder {
	rec := linearizability.NewRecorder()
	if hs := c.opts.histories; hs != nil {
		hs.mu.Lock()
		hs.list = append(hs.list, history{name: name, model: model, rec: rec})
		hs.mu.Unlock()
	} else {
		c.t.Errorf("History(%q): this cluster has no histories to check (use RunScenario or RunKVScenario)", name)
	}
	return rec
}

// check checks every history, fails t for each that is not linearizable
// or could not be checked, and returns a summary: how many histories,
// the largest, and the slowest check.
func (hs *histories) check(t *testing.T) string {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if len(hs.list) == 0 {
		return ""
	}
	var slowest time.Duration
	ops := 0
	for _, h := range hs.list {
		res := linearizability.Check(h.model, h.rec.History(), linBudget)
		slowest = max(slowest, res.Elapsed)
		ops = max(ops, res.Ops)
		if err := res.Err(); err != nil {
			t.Errorf("%s: %v", h.name, err)
		}
	}
	return fmt.Sprintf("  lin %d histories, largest %d ops, slowest %v", len(hs.list), ops, slowest.Round(time.Microsecond))
}
