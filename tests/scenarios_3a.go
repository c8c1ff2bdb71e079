package tests

import "time"

// Part 3A: leader election. Reference: the Raft paper, §5.2.
var scenarios3A = []Scenario{
	{Name: "InitialElection", Part: "3A", Servers: 3, Run: initialElection},
	{Name: "ReElection", Part: "3A", Servers: 3, Run: reElection},
	{Name: "ManyElections", Part: "3A", Servers: 7, Run: manyElections},
}

// initialElection: three servers elect one leader, agree on the term, and
// keep that leader while nothing fails.
func initialElection(c *Cluster) {
	c.CheckOneLeader()
	// Followers learn the term from the first heartbeats.
	time.Sleep(50 * time.Millisecond)
	term1 := c.CheckTerms()
	if term1 < 1 {
		c.t.Fatalf("term is %v, but should be at least 1", term1)
	}
	// Without failures the term should not change; the lab only warns.
	time.Sleep(2 * ElectionTimeout)
	if term2 := c.CheckTerms(); term1 != term2 {
		c.t.Logf("warning: term changed even though there were no failures (%d → %d)", term1, term2)
	}
	c.CheckOneLeader()
}

// reElection: a new leader is elected when the leader is cut off, the old
// leader's return does not disturb it, and without a quorum there is no
// leader.
func reElection(c *Cluster) {
	leader1 := c.CheckOneLeader()

	c.Disconnect(leader1)
	c.CheckOneLeader()

	// The old leader rejoins: it must not disturb the new one.
	c.Connect(leader1)
	leader2 := c.CheckOneLeader()

	// No quorum: no leader.
	c.Disconnect(leader2)
	c.Disconnect((leader2 + 1) % c.n)
	time.Sleep(2 * ElectionTimeout)
	c.CheckNoLeader()

	// A quorum again: a leader.
	c.Connect((leader2 + 1) % c.n)
	c.CheckOneLeader()

	c.Connect(leader2)
	c.CheckOneLeader()
}

// manyElections: seven servers keep electing while three random servers
// (possibly the same one twice) are cut off at a time.
func manyElections(c *Cluster) {
	c.CheckOneLeader()
	for range 9 {
		i1, i2, i3 := c.Rand(c.n), c.Rand(c.n), c.Rand(c.n)
		c.Disconnect(i1)
		c.Disconnect(i2)
		c.Disconnect(i3)
		// Four or more remain: a quorum of seven.
		c.CheckOneLeader()
		c.Connect(i1)
		c.Connect(i2)
		c.Connect(i3)
	}
	c.CheckOneLeader()
}
