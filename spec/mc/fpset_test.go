package mc

import (
	"sync/atomic"
	"testing"
	"unsafe"
)

// Shards fill whole cache lines and start on one, so that workers locking
// two of them never write to one line.
func TestFPShardCacheLines(t *testing.T) {
	if size := unsafe.Sizeof(fpShard{}); size%cacheLine != 0 {
		t.Errorf("unsafe.Sizeof(fpShard{}) = %d, want a multiple of %d", size, cacheLine)
	}
	s := newFPSet(0)
	for i, sh := range s.shards {
		if addr := uintptr(unsafe.Pointer(sh)); addr%cacheLine != 0 {
			t.Fatalf("shard %d starts at %#x, want a multiple of %d", i, addr, cacheLine)
		}
	}
}

// BenchmarkFPSetInsert inserts new fingerprints from every core at once,
// into a set presized for them, as the checker's workers do.
func BenchmarkFPSetInsert(b *testing.B) {
	s := newFPSet(b.N)
	var next atomic.Uint64
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			fp := fix(next.Add(1) * 0x9e3779b97f4a7c15)
			s.insert(fp, fp)
		}
	})
}
