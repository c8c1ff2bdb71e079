package kv_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A broken service is kv with one classic bug planted, made by a textual
// edit of one file and built with `go test -overlay`, so the bug lives
// only in a temporary copy. Each must make the named KV scenario of
// tests/ fail in one run with porcupine's verdict Illegal, and the
// visualisation it names must exist.
type brokenService struct {
	name     string
	file     string // in kv/
	old, new string // old must occur exactly once in file
	run      string // the scenario that must catch it
}

var brokenServices = []brokenService{
	{
		// A Get answered from the local state of whichever server is
		// asked: a follower that lags, or a leader deposed without
		// knowing it, returns a stale value (Raft paper §8).
		name: "LocalRead",
		file: "server.go",
		old:  "\t// Raft is called without s.mu:",
		new:  "\tif op.Kind == Get {\n\t\ts.mu.Lock()\n\t\treply.Err, reply.Value = OK, s.data[op.Key]\n\t\ts.mu.Unlock()\n\t\treturn\n\t}\n\t// Raft is called without s.mu:",
		// The minority's Get, called after the majority's Put("1", "14")
		// returned, is answered "13".
		run: "^TestOnePartition4B$",
	},
	{
		// No de-duplication: a retried Append whose first reply was lost
		// is applied twice.
		name: "ApplyRetriesTwice",
		file: "server.go",
		old:  "if op.Seq <= prev.Seq {",
		new:  "if op.Seq < 0 {",
		// A tenth of the replies are lost: among some 250 Appends, one
		// is retried (and applied twice) in all but about 1 run in 10^11.
		run: "^TestUnreliable4B$",
	},
	{
		// The server answers the request waiting at an index with the
		// result of whatever entry was applied there, even one another
		// leader put there: a write that never happened is acknowledged.
		name: "AnswerReplacedIndex",
		file: "server.go",
		old:  "if w.op.ClientID != op.ClientID || w.op.Seq != op.Seq {",
		new:  "if false {",
		run:  "^TestOnePartition4B$",
	},
}

var htmlPath = regexp.MustCompile(`visualisation: (\S+\.html)`)

// TestBrokenServicesAreCaught builds each broken service and runs its
// scenario once. It takes a build and a scenario per service, so -short
// skips it, and so does the race detector build (the broken services run
// without it).
func TestBrokenServicesAreCaught(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("broken services are built and run without -short and without -race")
	}
	for _, b := range brokenServices {
		t.Run(b.name, func(t *testing.T) {
			src, err := os.ReadFile(b.file)
			require.NoError(t, err)
			require.Equal(t, 1, strings.Count(string(src), b.old), "the code the broken service edits has changed: update it")
			dir := t.TempDir()
			mutated := filepath.Join(dir, b.file)
			require.NoError(t, os.WriteFile(mutated, []byte(strings.Replace(string(src), b.old, b.new, 1)), 0o644))
			abs, err := filepath.Abs(b.file)
			require.NoError(t, err)
			overlay, err := json.Marshal(map[string]map[string]string{"Replace": {abs: mutated}})
			require.NoError(t, err)
			ovl := filepath.Join(dir, "overlay.json")
			require.NoError(t, os.WriteFile(ovl, overlay, 0o644))

			cmd := exec.Command("go", "test", "-overlay", ovl, "-count=1", "-run", b.run, "../tests/")
			cmd.Env = append(os.Environ(), "RAFTSPEC_ARTIFACTS="+dir, "RAFTSPEC_WALLCLOCK=")
			out, err := cmd.CombinedOutput()
			require.Error(t, err, "broken service %s survived %s:\n%s", b.name, b.run, out)
			require.Contains(t, string(out), "history is not linearizable", "broken service %s was caught, but not by porcupine:\n%s", b.name, out)
			m := htmlPath.FindStringSubmatch(string(out))
			require.NotNil(t, m, "no visualisation path in:\n%s", out)
			info, err := os.Stat(m[1])
			require.NoError(t, err, "the visualisation named in the failure")
			require.Positive(t, info.Size())
		})
	}
}
