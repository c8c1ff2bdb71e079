package spec

import (
	"math/rand"
	"slices"
	"testing"
)

// sortBag sorts as slices.Sort does, and allocates nothing: it runs in
// Encode's inner loop.
func TestSortBag(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for n := 0; n <= MaxBag; n++ {
		b := make([]Packed, n)
		for k := range b {
			b[k] = Packed(r.Uint64()) &^ countMask
		}
		want := slices.Sorted(slices.Values(b))
		if sortBag(b); !slices.Equal(b, want) {
			t.Errorf("sortBag of %d messages = %x, want %x", n, b, want)
		}
	}
	var bag [MaxBag]Packed
	for _, n := range []int{4, MaxBag} {
		allocs := testing.AllocsPerRun(10, func() {
			for k := range n {
				bag[k] = Packed(n - k)
			}
			sortBag(bag[:n])
		})
		if allocs != 0 {
			t.Errorf("sortBag of %d messages: %v allocations, want 0", n, allocs)
		}
	}
}
