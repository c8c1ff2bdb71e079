package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/raftspec/raftspec/linearizability"
)

// linBudget bounds each porcupine check. A check that runs out is a
// failure: Unknown is never taken as Ok.
const linBudget = 30 * time.Second

// HistoriesEnv names a directory where, if set, every history a scenario
// records is written as JSON lines (TEST-N.jsonl), for `raftspec lin` and
// BenchmarkCheckFile of linearizability/.
const HistoriesEnv = "RAFTSPEC_HISTORIES"

func save(t *testing.T, path string, h linearizability.History) {
	f, err := os.Create(path)
	if err == nil {
		err = linearizability.WriteHistory(f, h)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		t.Errorf("%s: %v", HistoriesEnv, err)
	}
}

// histories are the client histories a scenario recorded, checked for
// linearizability once it has ended: outside virtual time, where
// porcupine's budget is real time.
type histories struct {
	skip bool // Options.Skip has CheckLinearizability: record, but check nothing
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
// the largest, and the slowest check; nil if there were none.
func (hs *histories) check(t *testing.T) *LinStats {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if len(hs.list) == 0 {
		return nil
	}
	lin := &LinStats{Histories: len(hs.list)}
	if hs.skip {
		lin.Skipped = true
		return lin
	}
	dump := os.Getenv(HistoriesEnv)
	for i, h := range hs.list {
		hist := h.rec.History()
		if dump != "" {
			save(t, filepath.Join(dump, fmt.Sprintf("%s-%d.jsonl", t.Name(), i)), hist)
		}
		res := linearizability.Check(h.model, hist, linBudget)
		lin.slowest = max(lin.slowest, res.Elapsed)
		lin.LargestOps = max(lin.LargestOps, res.Ops)
		if err := res.Err(); err != nil {
			t.Errorf("%s: %v", h.name, err)
		}
	}
	lin.SlowestSeconds = lin.slowest.Seconds()
	return lin
}
