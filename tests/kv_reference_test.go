package tests

import (
	"testing"

	"github.com/raftspec/raftspec/raft"
)

// runReferenceKV runs the KV scenario name over the reference; the entry
// points (TestConcurrent4B ...) are generated in entrypoints_test.go.
func runReferenceKV(t *testing.T, name string) {
	s, ok := LookupKV(name)
	if !ok {
		t.Fatalf("no KV scenario %q", name)
	}
	RunKVScenario(t, s, raft.Make, nil)
}
