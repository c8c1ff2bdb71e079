// Command gen writes tests/entrypoints_test.go from the scenario tables;
// run it with go generate ./tests/ (the directive is in tests/doc.go).
package main

import (
	"fmt"
	"os"

	"github.com/raftspec/raftspec/internal/entrypoints"
	"github.com/raftspec/raftspec/tests"
)

func main() {
	var raft, kv []string
	for _, s := range tests.Scenarios() {
		raft = append(raft, s.FullName())
	}
	for _, s := range tests.KVScenarios() {
		kv = append(kv, s.FullName())
	}
	src, err := entrypoints.Render(entrypoints.Reference(raft, kv))
	if err == nil {
		err = os.WriteFile(entrypoints.ReferenceFile, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "entrypoints:", err)
		os.Exit(1)
	}
}
