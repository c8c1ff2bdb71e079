package linearizability

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/anishathalye/porcupine"
)

// Verdict is the outcome of a check.
type Verdict string

const (
	Ok      Verdict = "Ok"      // a linearization exists
	Illegal Verdict = "Illegal" // none exists
	Unknown Verdict = "Unknown" // the budget ran out first
)

// Result is what Check found.
type Result struct {
	Verdict Verdict
	Ops     int           // operations in the history
	Elapsed time.Duration // wall time of the check
	HTML    string        // on Illegal: the path of porcupine's visualisation
	Why     string        // on Illegal: which operation could not follow the longest linearizable prefix
	Replay  string        // on Illegal, for this package's models: the command that checks the history again
	htmlErr error         // on Illegal: why HTML is empty
	budget  time.Duration
}

// explainBudget bounds the search without KVModel's bounds on Appends that
// Check makes on Illegal, for a longer partial linearization to explain and
// show (kvprune.go). Small histories take milliseconds; hard ones would
// take forever. Tests set it to 0, for no second search.
var explainBudget = time.Second

// ArtifactsEnv names the environment variable that holds the directory where
// Check writes its visualisations (default: os.TempDir()).
const ArtifactsEnv = "RAFTSPEC_ARTIFACTS"

// Check searches for a linearization of h against model for at most budget
// (0: no limit). On Illegal, it writes porcupine's visualisation of h, with
// h's annotations, to a file raftspec-lin-*.html in $RAFTSPEC_ARTIFACTS
// (default os.TempDir()) and explains the failure in Why. If h's inputs are
// KVInputs or RegisterInputs, it also writes h in the JSON-lines format to
// raftspec-lin-*.jsonl beside it, and Replay is the raftspec lin command that
// checks it again.
//
// The budget runs on the clock of package time. Inside a testing/synctest
// bubble that clock is virtual and does not move while the checker computes,
// so the budget would never run out: call Check outside the bubble, on the
// History taken when the bubble's clients are done. Elapsed has the same
// limit.
//
// On Illegal with KVModel, Why and the visualisation come from a second
// search without the bounds on Appends (see kvprune.go) if it finishes
// within a second and the budget, else from the first.
//
// A model's Partition, if any, must be deterministic (the same history gives
// the same partitions in the same order): Why is computed from a second call.
func Check(model porcupine.Model, h History, budget time.Duration) Result {
	start := time.Now()
	verdict, info := porcupine.CheckOperationsVerbose(model, h.Ops, budget)
	res := Result{Verdict: Verdict(verdict), Ops: len(h.Ops), budget: budget}
	if verdict == porcupine.Illegal {
		if plain, ok := withoutBounds(model, h.Ops); ok {
			limit := explainBudget
			if budget > 0 {
				limit = min(limit, budget-time.Since(start))
			}
			if limit > 0 {
				if v, i := porcupine.CheckOperationsVerbose(plain, h.Ops, limit); v == porcupine.Illegal {
					model, info = plain, i
				}
			}
		}
		// Why first: Visualize reorders the partial linearizations in place.
		res.Why = explain(model, h.Ops, info)
		info.AddAnnotations(h.Annotations)
		res.HTML, res.htmlErr = writeVisualization(model, info)
		if res.HTML != "" {
			res.Replay = writeReplay(strings.TrimSuffix(res.HTML, ".html")+".jsonl", h)
		}
	}
	res.Elapsed = time.Since(start)
	return res
}

// Err is nil iff the verdict is Ok. Unknown is an error too: a check that
// gave up has shown nothing.
func (r Result) Err() error {
	switch r.Verdict {
	case Ok:
		return nil
	case Illegal:
		if r.HTML == "" {
			return fmt.Errorf("history is not linearizable: %s; no visualisation: %v", r.Why, r.htmlErr)
		}
		if r.Replay != "" {
			return fmt.Errorf("history is not linearizable: %s; visualisation: %s; replay: %s", r.Why, r.HTML, r.Replay)
		}
		return fmt.Errorf("history is not linearizable: %s; visualisation: %s", r.Why, r.HTML)
	case Unknown:
		return fmt.Errorf("linearizability check gave up: the %v budget ran out checking %d operations, "+
			"and Unknown is not treated as Ok (raise the budget or record a shorter history)", r.budget, r.Ops)
	}
	return fmt.Errorf("linearizability check: verdict %q", r.Verdict)
}

// String reads like "Ok: 1200 operations checked in 35ms".
func (r Result) String() string {
	return fmt.Sprintf("%s: %d operations checked in %v", r.Verdict, r.Ops, r.Elapsed.Round(time.Microsecond))
}

// writeVisualization writes porcupine's HTML to a new file in the artifacts
// directory and returns its path.
func writeVisualization(model porcupine.Model, info porcupine.LinearizationInfo) (string, error) {
	dir := os.Getenv(ArtifactsEnv)
	if dir == "" {
		dir = os.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	f, err := os.CreateTemp(dir, "raftspec-lin-*.html")
	if err != nil {
		return "", err
	}
	err = porcupine.Visualize(model, info, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return "", errors.Join(err, os.Remove(f.Name()))
	}
	return f.Name(), nil
}

// writeReplay writes h to path and returns the raftspec lin command that
// checks it, or "" if h is not of this package's models or cannot be
// written (the visualisation is what matters).
func writeReplay(path string, h History) string {
	model := "kv"
	if len(h.Ops) > 0 {
		if _, ok := h.Ops[0].Input.(RegisterInput); ok {
			model = "register"
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return ""
	}
	err = WriteHistory(f, h)
	if cerr := f.Close(); err != nil || cerr != nil {
		os.Remove(path)
		return ""
	}
	return fmt.Sprintf("raftspec lin -model %s %s", model, path)
}
