package tests

import (
	"testing"

	"github.com/raftspec/raftspec/raft"
)

// The KV suite over the reference, one Go test per lab test, with the
// lab's names: go test -run TestConcurrent4B ./tests/

func runReferenceKV(t *testing.T, name string) {
	s, ok := LookupKV(name)
	if !ok {
		t.Fatalf("no KV scenario %q", name)
	}
	RunKVScenario(t, s, raft.Make, nil)
}

func TestBasic4B(t *testing.T)                     { runReferenceKV(t, "Basic4B") }
func TestSpeed4B(t *testing.T)                     { runReferenceKV(t, "Speed4B") }
func TestConcurrent4B(t *testing.T)                { runReferenceKV(t, "Concurrent4B") }
func TestUnreliable4B(t *testing.T)                { runReferenceKV(t, "Unreliable4B") }
func TestUnreliableOneKey4B(t *testing.T)          { runReferenceKV(t, "UnreliableOneKey4B") }
func TestOnePartition4B(t *testing.T)              { runReferenceKV(t, "OnePartition4B") }
func TestManyPartitionsOneClient4B(t *testing.T)   { runReferenceKV(t, "ManyPartitionsOneClient4B") }
func TestManyPartitionsManyClients4B(t *testing.T) { runReferenceKV(t, "ManyPartitionsManyClients4B") }
func TestPersistOneClient4B(t *testing.T)          { runReferenceKV(t, "PersistOneClient4B") }
func TestPersistConcurrent4B(t *testing.T)         { runReferenceKV(t, "PersistConcurrent4B") }
func TestPersistConcurrentUnreliable4B(t *testing.T) {
	runReferenceKV(t, "PersistConcurrentUnreliable4B")
}
func TestPersistPartition4B(t *testing.T) { runReferenceKV(t, "PersistPartition4B") }
func TestPersistPartitionUnreliable4B(t *testing.T) {
	runReferenceKV(t, "PersistPartitionUnreliable4B")
}
func TestPersistPartitionUnreliableLinearizable4B(t *testing.T) {
	runReferenceKV(t, "PersistPartitionUnreliableLinearizable4B")
}
func TestSnapshotRPC4C(t *testing.T)     { runReferenceKV(t, "SnapshotRPC4C") }
func TestSnapshotSize4C(t *testing.T)    { runReferenceKV(t, "SnapshotSize4C") }
func TestSpeed4C(t *testing.T)           { runReferenceKV(t, "Speed4C") }
func TestSnapshotRecover4C(t *testing.T) { runReferenceKV(t, "SnapshotRecover4C") }
func TestSnapshotRecoverManyClients4C(t *testing.T) {
	runReferenceKV(t, "SnapshotRecoverManyClients4C")
}
func TestSnapshotUnreliable4C(t *testing.T)        { runReferenceKV(t, "SnapshotUnreliable4C") }
func TestSnapshotUnreliableRecover4C(t *testing.T) { runReferenceKV(t, "SnapshotUnreliableRecover4C") }
func TestSnapshotUnreliableRecoverConcurrentPartition4C(t *testing.T) {
	runReferenceKV(t, "SnapshotUnreliableRecoverConcurrentPartition4C")
}
func TestSnapshotUnreliableRecoverConcurrentPartitionLinearizable4C(t *testing.T) {
	runReferenceKV(t, "SnapshotUnreliableRecoverConcurrentPartitionLinearizable4C")
}
