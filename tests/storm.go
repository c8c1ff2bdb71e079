package tests

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// An RPC storm is a peer that calls again at once when a call is refused
// or fails: in virtual time the calls take no time, so the clock stops and
// the scenario would hang until the watchdog. The network counts the
// calls made within each millisecond of virtual time; past stormLimit
// (a hundred times what any lab scenario needs) it reports the storm, with
// the busiest methods and peers, and from then on makes every call wait a
// millisecond and fail, so that virtual time moves again and the scenario
// ends on its failure.
const stormLimit = 10000

// stormWindow is the virtual time over which calls are counted.
const stormWindow = time.Millisecond

// stormState is the network's storm detector; guarded by Network.mu.
type stormState struct {
	windowStart time.Time
	calls       int
	by          map[string]int // "Raft.AppendEntries 0→1" → calls, once calls pass stormLimit/2
	storming    bool
}

// noteCall counts a call from e of method at now and reports whether the
// network is in a storm. It must be called with net.mu held; the report,
// if any, is returned for the caller to send once the lock is released.
func (st *stormState) noteCall(e *end, method string, now time.Time) (storming bool, report string) {
	if st.storming {
		return true, ""
	}
	if now.Sub(st.windowStart) >= stormWindow {
		st.windowStart, st.calls, st.by = now, 0, nil
	}
	st.calls++
	if st.calls > stormLimit/2 {
		if st.by == nil {
			st.by = map[string]int{}
		}
		from := fmt.Sprint(e.from)
		if e.client != nil {
			from = "client"
		}
		st.by[fmt.Sprintf("%s %s→%d", method, from, e.to)]++
	}
	if st.calls <= stormLimit {
		return false, ""
	}
	st.storming = true
	keys := slices.SortedFunc(maps.Keys(st.by), func(a, b string) int { return st.by[b] - st.by[a] })
	var top []string
	for _, k := range keys[:min(len(keys), 6)] {
		top = append(top, fmt.Sprintf("%s ×%d", k, st.by[k]))
	}
	return true, fmt.Sprintf("RPC storm: more than %d RPCs within %v of virtual time (busiest: %s): "+
		"a peer calls again at once when a call is refused or fails; wait (a heartbeat interval) before calling again",
		stormLimit, stormWindow, strings.Join(top, ", "))
}
