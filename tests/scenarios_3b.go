package tests

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Part 3B: log replication. Reference: the Raft paper, §5.3 and §5.4.
var scenarios3B = []Scenario{
	{Name: "BasicAgree", Part: "3B", Servers: 3, Run: basicAgree},
	{Name: "RPCBytes", Part: "3B", Servers: 3, Run: rpcBytes},
	{Name: "FollowerFailure", Part: "3B", Servers: 3, Run: followerFailure},
	{Name: "LeaderFailure", Part: "3B", Servers: 3, Run: leaderFailure},
	{Name: "FailAgree", Part: "3B", Servers: 3, Run: failAgree},
	{Name: "FailNoAgree", Part: "3B", Servers: 5, Run: failNoAgree},
	{Name: "ConcurrentStarts", Part: "3B", Servers: 3, Run: concurrentStarts},
	{Name: "Rejoin", Part: "3B", Servers: 3, Run: rejoin},
	{Name: "Backup", Part: "3B", Servers: 5, Run: backup},
	{Name: "Count", Part: "3B", Servers: 3, Run: count},
}

// RandCommand returns a random int command.
func (c *Cluster) RandCommand() int { return c.Rand(math.MaxInt32) }

// randString returns n random letters.
func (c *Cluster) randString(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = letters[c.Rand(len(letters))]
	}
	return string(b)
}

// mustStart calls Start(cmd) on server i, which must accept it as leader.
func (c *Cluster) mustStart(i int, cmd any) int {
	c.t.Helper()
	rf := c.Raft(i)
	if rf == nil {
		c.t.Fatalf("server %d is not running", i)
	}
	index, term, ok := rf.Start(cmd)
	if !ok {
		c.t.Fatalf("leader %d rejected Start(%v)", i, cmd)
	}
	c.obs.claimsLeader(i, term)
	return index
}

// startOn calls Start(cmd) on server i if it runs, whatever it answers.
func (c *Cluster) startOn(i int, cmd any) {
	if rf := c.Raft(i); rf != nil {
		if _, term, ok := rf.Start(cmd); ok {
			c.obs.claimsLeader(i, term)
		}
	}
}

// basicAgree: three commands commit at indices 1, 2, 3, none before its Start.
func basicAgree(c *Cluster) {
	for index := 1; index <= 3; index++ {
		if nd, _ := c.NCommitted(index); nd > 0 {
			c.t.Fatalf("some have committed before Start()")
		}
		if xindex := c.One(index*100, c.n, false); xindex != index {
			c.t.Fatalf("got index %v but expected %v", xindex, index)
		}
	}
}

// rpcBytes: each command is sent to each follower about once: the bytes
// on the wire stay within 3× the commands' size plus 50,000.
func rpcBytes(c *Cluster) {
	c.One(99, c.n, false)
	bytes0 := c.Bytes()
	sent := int64(0)
	for index := 2; index < 12; index++ {
		cmd := c.randString(5000)
		if xindex := c.One(cmd, c.n, false); xindex != index {
			c.t.Fatalf("got index %v but expected %v", xindex, index)
		}
		sent += int64(len(cmd))
	}
	got, expected := c.Bytes()-bytes0, 3*sent
	if got > expected+50000 {
		c.t.Fatalf("too many RPC bytes; got %v, expected %v", got, expected)
	}
}

// followerFailure: agreement continues without one follower, and stops
// without both.
func followerFailure(c *Cluster) {
	c.One(101, c.n, false)
	leader1 := c.CheckOneLeader()
	c.Disconnect((leader1 + 1) % c.n)

	// The leader and the remaining follower still agree.
	c.One(102, c.n-1, false)
	time.Sleep(ElectionTimeout)
	c.One(103, c.n-1, false)

	leader2 := c.CheckOneLeader()
	c.Disconnect((leader2 + 1) % c.n)
	c.Disconnect((leader2 + 2) % c.n)

	index := c.mustStart(leader2, 104)
	if index != 4 {
		c.t.Fatalf("expected index 4, got %v", index)
	}
	time.Sleep(2 * ElectionTimeout)
	if n, _ := c.NCommitted(index); n > 0 {
		c.t.Fatalf("%v committed but no majority", n)
	}
}

// leaderFailure: agreement continues after the leader is cut off, and
// stops once a second leader is.
func leaderFailure(c *Cluster) {
	c.One(101, c.n, false)
	leader1 := c.CheckOneLeader()
	c.Disconnect(leader1)

	c.One(102, c.n-1, false)
	time.Sleep(ElectionTimeout)
	c.One(103, c.n-1, false)

	leader2 := c.CheckOneLeader()
	c.Disconnect(leader2)

	for i := range c.n {
		c.startOn(i, 104)
	}
	time.Sleep(2 * ElectionTimeout)
	if n, _ := c.NCommitted(4); n > 0 {
		c.t.Fatalf("%v committed but no majority", n)
	}
}

// failAgree: a follower that missed entries catches up when it returns.
func failAgree(c *Cluster) {
	c.One(101, c.n, false)
	leader := c.CheckOneLeader()
	c.Disconnect((leader + 1) % c.n)

	c.One(102, c.n-1, false)
	c.One(103, c.n-1, false)
	time.Sleep(ElectionTimeout)
	c.One(104, c.n-1, false)
	c.One(105, c.n-1, false)

	c.Connect((leader + 1) % c.n)
	// The full set agrees, the returned follower included.
	c.One(106, c.n, true)
	time.Sleep(ElectionTimeout)
	c.One(107, c.n, true)
}

// failNoAgree: with three of five followers gone nothing commits; once
// they return, the new leader's index is 2 or 3 and agreement resumes.
func failNoAgree(c *Cluster) {
	c.One(10, c.n, false)
	leader := c.CheckOneLeader()
	c.Disconnect((leader + 1) % c.n)
	c.Disconnect((leader + 2) % c.n)
	c.Disconnect((leader + 3) % c.n)

	index := c.mustStart(leader, 20)
	if index != 2 {
		c.t.Fatalf("expected index 2, got %v", index)
	}
	time.Sleep(2 * ElectionTimeout)
	if n, _ := c.NCommitted(index); n > 0 {
		c.t.Fatalf("%v committed but no majority", n)
	}

	c.Connect((leader + 1) % c.n)
	c.Connect((leader + 2) % c.n)
	c.Connect((leader + 3) % c.n)

	// The disconnected majority may have chosen a leader among itself,
	// forgetting index 2, or the old leader may still lead.
	leader2 := c.CheckOneLeader()
	index2 := c.mustStart(leader2, 30)
	if index2 < 2 || index2 > 3 {
		c.t.Fatalf("unexpected index %v", index2)
	}
	c.One(1000, c.n, true)
}

// concurrentStarts: concurrent Starts in one term all commit.
func concurrentStarts(c *Cluster) {
	for try := range 5 {
		if try > 0 {
			time.Sleep(3 * time.Second) // give the cluster a chance to settle
		}
		if c.tryConcurrentStarts() {
			return
		}
	}
	c.t.Fatalf("term changed too often")
}

// tryConcurrentStarts is one try of concurrentStarts; false: the term
// changed, try again.
func (c *Cluster) tryConcurrentStarts() bool {
	leader := c.CheckOneLeader()
	rf := c.Raft(leader)
	_, term, ok := rf.Start(1)
	if !ok {
		return false // leader moved on quickly
	}
	const iters = 5
	var wg sync.WaitGroup
	is := make(chan int, iters)
	for ii := range iters {
		wg.Go(func() {
			i, term1, ok := rf.Start(100 + ii)
			if term1 != term || !ok {
				return
			}
			is <- i
		})
	}
	wg.Wait()
	close(is)
	for j := range c.n {
		if rf := c.Raft(j); rf != nil {
			if t, _ := rf.GetState(); t != term {
				return false // the term changed: no guarantee all Starts commit
			}
		}
	}
	var cmds []int
	for index := range is {
		cmd := c.Wait(index, c.n, term)
		ix, ok := cmd.(int)
		if !ok {
			c.t.Fatalf("value %v is not an int", cmd)
		}
		if ix == -1 {
			return false // the term changed
		}
		cmds = append(cmds, ix)
	}
	for ii := range iters {
		if x := 100 + ii; !slices.Contains(cmds, x) {
			c.t.Fatalf("cmd %v missing in %v", x, cmds)
		}
	}
	return true
}

// rejoin: a partitioned leader with uncommitted entries rejoins and its
// conflicting entries are replaced.
func rejoin(c *Cluster) {
	c.One(101, c.n, true)

	leader1 := c.CheckOneLeader()
	c.Disconnect(leader1)
	// The old leader gets entries that can never commit.
	c.startOn(leader1, 102)
	c.startOn(leader1, 103)
	c.startOn(leader1, 104)

	// The others elect and commit index 2.
	c.One(103, 2, true)

	leader2 := c.CheckOneLeader()
	c.Disconnect(leader2)
	c.Connect(leader1)
	c.One(104, 2, true)

	c.Connect(leader2)
	c.One(105, c.n, true)
}

// backup: a leader backs up quickly over followers' long divergent logs
// (§5.3's optimization, the lab's fast backup).
func backup(c *Cluster) {
	c.One(c.RandCommand(), c.n, true)

	// Leader and one follower in a minority.
	leader1 := c.CheckOneLeader()
	c.Disconnect((leader1 + 2) % c.n)
	c.Disconnect((leader1 + 3) % c.n)
	c.Disconnect((leader1 + 4) % c.n)
	for range 50 {
		c.startOn(leader1, c.RandCommand()) // cannot commit
	}
	time.Sleep(ElectionTimeout / 2)

	c.Disconnect((leader1 + 0) % c.n)
	c.Disconnect((leader1 + 1) % c.n)
	c.Connect((leader1 + 2) % c.n)
	c.Connect((leader1 + 3) % c.n)
	c.Connect((leader1 + 4) % c.n)
	for range 50 {
		c.One(c.RandCommand(), 3, true)
	}

	// The new leader and one follower: another uncommittable batch.
	leader2 := c.CheckOneLeader()
	other := (leader1 + 2) % c.n
	if leader2 == other {
		other = (leader2 + 1) % c.n
	}
	c.Disconnect(other)
	for range 50 {
		c.startOn(leader2, c.RandCommand())
	}
	time.Sleep(ElectionTimeout / 2)

	// The original leader, its follower and the cut-off one take over.
	for i := range c.n {
		c.Disconnect(i)
	}
	c.Connect((leader1 + 0) % c.n)
	c.Connect((leader1 + 1) % c.n)
	c.Connect(other)
	for range 50 {
		c.One(c.RandCommand(), 3, true)
	}

	for i := range c.n {
		c.Connect(i)
	}
	c.One(c.RandCommand(), c.n, true)
}

// rpcsDelivered is the number of RPCs delivered to all servers.
func (c *Cluster) rpcsDelivered() int {
	n := 0
	for j := range c.n {
		n += c.RPCCount(j)
	}
	return n
}

// count: elections, agreement and idleness each cost a bounded number of
// RPCs (heartbeats at most ten per second).
func count(c *Cluster) {
	c.CheckOneLeader()
	if total1 := c.rpcsDelivered(); total1 > 30 || total1 < 1 {
		c.t.Fatalf("too many or few RPCs (%v) to elect initial leader", total1)
	}
	total2 := -1
	for try := range 5 {
		if try > 0 {
			time.Sleep(3 * time.Second) // give the cluster a chance to settle
		}
		if total2 = c.tryCount(); total2 >= 0 {
			break
		}
	}
	if total2 < 0 {
		c.t.Fatalf("term changed too often")
	}
	time.Sleep(ElectionTimeout)
	if total3 := c.rpcsDelivered(); total3-total2 > 3*20 {
		c.t.Fatalf("too many RPCs (%v) for 1 second of idleness", total3-total2)
	}
}

// tryCount is one try of count's agreement phase: it returns the RPC
// count after it, or -1 if the term changed.
func (c *Cluster) tryCount() int {
	leader := c.CheckOneLeader()
	total1 := c.rpcsDelivered()
	const iters = 10
	rf := c.Raft(leader)
	starti, term, ok := rf.Start(1)
	if !ok {
		return -1 // leader moved on quickly
	}
	var cmds []int
	for i := 1; i < iters+2; i++ {
		x := c.RandCommand()
		cmds = append(cmds, x)
		index1, term1, ok := rf.Start(x)
		if term1 != term || !ok {
			return -1 // term changed while starting, or no longer leader
		}
		if starti+i != index1 {
			c.t.Fatalf("Start() failed: index %v, want %v", index1, starti+i)
		}
	}
	for i := 1; i < iters+1; i++ {
		cmd := c.Wait(starti+i, c.n, term)
		if ix, ok := cmd.(int); !ok || ix != cmds[i-1] {
			if ix == -1 {
				return -1 // term changed
			}
			c.t.Fatalf("wrong value %v committed for index %v; expected %v", cmd, starti+i, cmds[i-1])
		}
	}
	for j := range c.n {
		if t, _ := c.Raft(j).GetState(); t != term {
			return -1 // a term change would explain the RPCs
		}
	}
	total2 := c.rpcsDelivered()
	if total2-total1 > (iters+1+3)*3 {
		c.t.Fatalf("too many RPCs (%v) for %v entries", total2-total1, iters)
	}
	return total2
}
