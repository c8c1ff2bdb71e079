package mc

import (
	"sync"
	"unsafe"
)

// fpSet is the set of fingerprints seen so far, each with the fingerprint
// of the state it was first reached from (its parent), so that a trace can
// be rebuilt without keeping states. It is sharded by the fingerprint's
// top bits. Each shard is an open-addressing table of (fingerprint,
// parent) pairs, so that a probe touches one cache line, guarded by its
// own mutex. With two workers the locks are almost never contended, and a
// shard grows alone, so no insert waits for a whole-table rehash.
type fpSet struct {
	shards [fpShards]*fpShard
}

const (
	fpShardBits = 8
	fpShards    = 1 << fpShardBits
)

// cacheLine is the cache line size of amd64 and most arm64 cores.
const cacheLine = 64

// fpShard is padded to a multiple of a cache line, so that two workers
// locking different shards never write to the same line. Each shard is an
// allocation of its own: Go places a small object of 64 bytes on a
// 64-byte boundary, whereas an array of shards, a larger object with
// pointers, starts 8 bytes in, after its malloc header.
type fpShard struct {
	mu    sync.Mutex
	slots []fpSlot
	n     int
	_     [cacheLine - fpShardData%cacheLine]byte
}

// fpShardData is the size of fpShard's fields before its padding.
const fpShardData = unsafe.Sizeof(sync.Mutex{}) + unsafe.Sizeof([]fpSlot(nil)) + unsafe.Sizeof(int(0))

// fpSlot is one entry: key 0 is an empty slot (fingerprints are never 0,
// see fix).
type fpSlot struct{ key, parent uint64 }

// fix maps the fingerprint 0, reserved for empty slots, to 1.
func fix(fp uint64) uint64 {
	if fp == 0 {
		return 1
	}
	return fp
}

func newFPSet(hint int) *fpSet {
	s := &fpSet{}
	per := 1
	for per*fpShards < hint*2 {
		per <<= 1
	}
	if per < 64 {
		per = 64
	}
	for i := range s.shards {
		s.shards[i] = &fpShard{slots: make([]fpSlot, per)}
	}
	return s
}

// insert adds fp with its parent and reports whether it was new.
func (s *fpSet) insert(fp, parent uint64) bool {
	sh := s.shards[fp>>(64-fpShardBits)]
	sh.mu.Lock()
	if (sh.n+1)*4 > len(sh.slots)*3 { // load factor 3/4
		sh.grow()
	}
	slots := sh.slots
	mask := uint64(len(slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch slots[i].key {
		case fp:
			sh.mu.Unlock()
			return false
		case 0:
			slots[i] = fpSlot{fp, parent}
			sh.n++
			sh.mu.Unlock()
			return true
		}
	}
}

// parent returns the parent of fp, and false if fp is not in the set.
func (s *fpSet) parent(fp uint64) (uint64, bool) {
	sh := s.shards[fp>>(64-fpShardBits)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	mask := uint64(len(sh.slots) - 1)
	for i := fp & mask; ; i = (i + 1) & mask {
		switch sh.slots[i].key {
		case fp:
			return sh.slots[i].parent, true
		case 0:
			return 0, false
		}
	}
}

func (sh *fpShard) grow() {
	old := sh.slots
	sh.slots = make([]fpSlot, 2*len(old))
	mask := uint64(len(sh.slots) - 1)
	for _, e := range old {
		if e.key == 0 {
			continue
		}
		i := e.key & mask
		for sh.slots[i].key != 0 {
			i = (i + 1) & mask
		}
		sh.slots[i] = e
	}
}

// len is the number of fingerprints held.
func (s *fpSet) len() int {
	n := 0
	for i := range s.shards {
		sh := s.shards[i]
		sh.mu.Lock()
		n += sh.n
		sh.mu.Unlock()
	}
	return n
}
