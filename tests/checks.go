package tests

import (
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// The lab's bounds.
const (
	// ElectionTimeout is how long the lab allows a cluster to elect.
	ElectionTimeout = 1000 * time.Millisecond
	oneTimeout      = 10 * time.Second // One gives up after this
	oneWindow       = 2 * time.Second  // one Start's wait for agreement
	scenarioLimit   = 120 * time.Second
)

// liveConnected returns server i's incarnation if it is live and connected.
func (c *Cluster) liveConnected(i int) (raftapi.Raft, bool) {
	if !c.Connected(i) {
		return nil, false
	}
	rf := c.Raft(i)
	if rf == nil {
		return nil, false
	}
	return rf, true
}

// CheckOneLeader waits until exactly one connected server claims to lead
// the newest term, and returns it. It fails the test if two claim to lead
// one term, or if none leads after about 5 s. The lab's checkOneLeader.
func (c *Cluster) CheckOneLeader() int {
	c.t.Helper()
	leader, err := c.checkOneLeader()
	if err != nil {
		c.fatal(err)
	}
	return leader
}

func (c *Cluster) checkOneLeader() (int, error) {
	for range 10 {
		time.Sleep(time.Duration(450+c.Rand(100)) * time.Millisecond)
		if err := c.err(); err != nil {
			return -1, err
		}
		leaders := map[int][]int{} // term → servers claiming to lead it
		for i := range c.n {
			rf, ok := c.liveConnected(i)
			if !ok {
				continue
			}
			if term, isLeader := rf.GetState(); isLeader {
				leaders[term] = append(leaders[term], i)
				c.obs.claimsLeader(i, term)
			}
		}
		if len(leaders) == 0 {
			continue
		}
		for term, ls := range leaders {
			if len(ls) > 1 {
				return -1, fmt.Errorf("term %d has %d (>1) leaders: servers %v", term, len(ls), ls)
			}
		}
		newest := slices.Max(slices.Collect(maps.Keys(leaders)))
		return leaders[newest][0], nil
	}
	return -1, fmt.Errorf("expected one leader, got none")
}

// CheckTerms returns the term of the connected servers, and fails the
// test if they disagree.
func (c *Cluster) CheckTerms() int {
	c.t.Helper()
	term := -1
	for i := range c.n {
		rf, ok := c.liveConnected(i)
		if !ok {
			continue
		}
		xterm, _ := rf.GetState()
		if term == -1 {
			term = xterm
		} else if term != xterm {
			c.t.Fatalf("servers disagree on term: %d and %d", term, xterm)
		}
	}
	return term
}

// CheckNoLeader fails the test if any connected server claims to lead.
func (c *Cluster) CheckNoLeader() {
	c.t.Helper()
	if err := c.checkNoLeader(); err != nil {
		c.fatal(err)
	}
}

func (c *Cluster) checkNoLeader() error {
	if err := c.err(); err != nil {
		return err
	}
	for i := range c.n {
		rf, ok := c.liveConnected(i)
		if !ok {
			continue
		}
		if term, isLeader := rf.GetState(); isLeader {
			c.obs.claimsLeader(i, term)
			return fmt.Errorf("expected no leader among connected servers, but %v claims to be leader in term %d", i, term)
		}
	}
	return nil
}

// NCommitted returns how many servers have applied index, and the command
// there. It fails the test if they applied different commands.
func (c *Cluster) NCommitted(index int) (int, any) {
	c.t.Helper()
	n, cmd, err := c.nCommitted(index)
	if err != nil {
		c.fatal(err)
	}
	return n, cmd
}

func (c *Cluster) nCommitted(index int) (int, any, error) {
	if err := c.err(); err != nil {
		return 0, nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	count := 0
	var cmd any
	for i := range c.n {
		cmd1, ok := c.logs[i][index]
		if !ok {
			continue
		}
		if count > 0 && !sameCommand(cmd, cmd1) {
			return 0, nil, fmt.Errorf("committed values do not match: index %v, %v, %v", index, cmd, cmd1)
		}
		count++
		cmd = cmd1
	}
	return count, cmd, nil
}

// One submits cmd until some server accepts it as leader and at least n
// servers apply it at the index Start returned, and returns that index.
// With retry it re-submits after each 2 s window without agreement; it
// gives up after 10 s and fails the test. The lab's one().
func (c *Cluster) One(cmd any, n int, retry bool) int {
	c.t.Helper()
	index, err := c.one(cmd, n, retry)
	if err != nil {
		c.fatal(err)
	}
	return index
}

func (c *Cluster) one(cmd any, n int, retry bool) (int, error) {
	t0 := time.Now()
	starts := 0
	for time.Since(t0) < oneTimeout {
		if err := c.err(); err != nil {
			return -1, err
		}
		index := -1
		for range c.n {
			starts = (starts + 1) % c.n
			if !c.Connected(starts) {
				continue
			}
			if rf := c.Raft(starts); rf != nil {
				if index1, term, ok := rf.Start(cmd); ok {
					c.obs.claimsLeader(starts, term)
					c.obs.started(starts)
					index = index1
					break
				}
			}
		}
		if index == -1 {
			time.Sleep(50 * time.Millisecond) // no leader yet
			continue
		}
		t1 := time.Now()
		for time.Since(t1) < oneWindow {
			nd, cmd1, err := c.nCommitted(index)
			if err != nil {
				return -1, err
			}
			if nd > 0 && nd >= n && sameCommand(cmd1, cmd) {
				return index, nil
			}
			time.Sleep(20 * time.Millisecond)
		}
		if !retry {
			return -1, fmt.Errorf("one(%v) failed to reach agreement", brief(cmd))
		}
	}
	return -1, fmt.Errorf("one(%v) failed to reach agreement", brief(cmd))
}

// Wait waits for at least n servers to apply index, backing off up to
// about 30 s, and returns the command there; it returns -1 at once if some
// server's term passes startTerm (-1: never). The lab's wait().
func (c *Cluster) Wait(index, n, startTerm int) any {
	c.t.Helper()
	to := 10 * time.Millisecond
	for range 30 {
		nd, _ := c.NCommitted(index)
		if nd >= n {
			break
		}
		time.Sleep(to)
		if to < time.Second {
			to *= 2
		}
		if startTerm > -1 {
			for i := range c.n {
				if rf := c.Raft(i); rf != nil {
					if t, _ := rf.GetState(); t > startTerm {
						return -1 // someone moved on; the caller retries
					}
				}
			}
		}
	}
	nd, cmd := c.NCommitted(index)
	if nd < n {
		c.t.Fatalf("only %d decided for index %d; wanted %d", nd, index, n)
	}
	return cmd
}

// MaxIndex is the highest index any server applied.
func (c *Cluster) MaxIndex() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.maxIndex
}

// LogSize is the largest persisted Raft state of any server, in bytes.
func (c *Cluster) LogSize() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	size := 0
	for _, p := range c.saved {
		size = max(size, p.RaftStateSize())
	}
	return size
}

// maxCommandText bounds how much of a command a failure shows (RPCBytes3B's
// are 5,000 bytes long).
const maxCommandText = 60

// brief formats a command for a failure message, cut to maxCommandText
// bytes.
func brief(cmd any) string {
	s := fmt.Sprint(cmd)
	if len(s) > maxCommandText {
		return fmt.Sprintf("%s… (%d bytes)", s[:maxCommandText], len(s))
	}
	return s
}
