package tests

import "time"

// Part 3D: log compaction. Every scenario runs with the snapshotting
// applier (ClusterOptions.Snapshot): the service snapshots after every
// tenth entry, so the log is trimmed as it grows, a lagging server must be
// brought up to date with InstallSnapshot, and a restarted server starts
// from its snapshot. Reference: the Raft paper, §7.
//
// SnapshotDuringApply is raftspec's own: the lab finds the race it
// forces only by chance, in real time.
//
// SnapshotAllCrash and SnapshotInit run on an unreliable network, as in
// the lab since 2025 (2022–2024 ran them reliably): the harder setting.
var scenarios3D = []Scenario{
	{Name: "SnapshotBasic", Part: "3D", Servers: 3, Snapshot: true, Run: snapshotRounds(noFault)},
	{Name: "SnapshotInstall", Part: "3D", Servers: 3, Snapshot: true, Run: snapshotRounds(disconnectVictim)},
	{Name: "SnapshotInstallUnreliable", Part: "3D", Servers: 3, Snapshot: true, Unreliable: true, Run: snapshotRounds(disconnectVictim)},
	{Name: "SnapshotInstallCrash", Part: "3D", Servers: 3, Snapshot: true, Run: snapshotRounds(crashVictim)},
	{Name: "SnapshotInstallUnCrash", Part: "3D", Servers: 3, Snapshot: true, Unreliable: true, Run: snapshotRounds(crashVictim)},
	{Name: "SnapshotAllCrash", Part: "3D", Servers: 3, Snapshot: true, Unreliable: true, Run: snapshotAllCrash},
	{Name: "SnapshotInit", Part: "3D", Servers: 3, Snapshot: true, Unreliable: true, Run: snapshotInit},
	{Name: "SnapshotDuringApply", Part: "3D", Servers: 3, Snapshot: true, Extra: true, Run: snapshotDuringApply},
}

// MaxLogSize is the lab's bound on a server's persisted Raft state, in
// bytes, when its service snapshots every 10 entries: what is left of the
// log after compaction must stay small (raft-bugs.md M21).
const MaxLogSize = 2000

// snapshotFault is what happens to the victim of a round of
// snapshotRounds.
type snapshotFault int

const (
	noFault          snapshotFault = iota
	disconnectVictim               // cut off, then reconnected
	crashVictim                    // crashed, then restarted from its storage
)

// snapshotRounds returns the scenario the lab calls snapcommon: 30 rounds,
// in each of which one server (a follower, or the leader every third
// round) falls behind while the others commit enough to snapshot past it,
// so that when it returns it can be brought up to date only with the
// leader's snapshot. Without a fault every round ends with all servers
// caught up: SnapshotBasic checks compaction alone, and needs no
// InstallSnapshot to pass (though a leader may still send one to a
// follower slow to acknowledge the last burst of commands).
func snapshotRounds(fault snapshotFault) func(c *Cluster) {
	return func(c *Cluster) {
		c.One(c.RandCommand(), c.n, true)
		leader := c.CheckOneLeader()
		quorum := c.n
		if fault != noFault {
			quorum = c.n - 1
		}
		for round := range 30 {
			victim, sender := (leader+1)%c.n, leader
			if round%3 == 1 {
				// The leader falls behind; its follower gets the
				// commands, and passes them on only if it wins.
				victim, sender = leader, (leader+1)%c.n
			}
			switch fault {
			case disconnectVictim:
				c.Disconnect(victim)
				c.One(c.RandCommand(), quorum, true)
			case crashVictim:
				c.Crash(victim)
				c.One(c.RandCommand(), quorum, true)
			}

			// Between 5 and 14 commands nobody waits for: usually enough
			// for at least one snapshot past the victim.
			for range snapshotInterval/2 + c.Rand(snapshotInterval) {
				c.startOn(sender, c.RandCommand())
			}
			// The appliers catch up with them.
			c.One(c.RandCommand(), quorum, true)

			if size := c.LogSize(); size >= MaxLogSize {
				c.t.Fatalf("Log size too large: a server persists %d bytes of Raft state, want < %d (is the log trimmed on Snapshot?)", size, MaxLogSize)
			}

			switch fault {
			case disconnectVictim:
				c.Connect(victim)
			case crashVictim:
				c.restartConnect(victim)
			default:
				continue
			}
			// The victim is behind the others' snapshots.
			c.One(c.RandCommand(), c.n, true)
			leader = c.CheckOneLeader()
		}
	}
}

// crashRestartAll crashes every server, then restarts and connects each
// from what it persisted.
func (c *Cluster) crashRestartAll() {
	for i := range c.n {
		c.Crash(i)
	}
	for i := range c.n {
		c.restartConnect(i)
	}
}

// snapshotAllCrash: five times, commit enough to snapshot, then crash and
// restart every server at once. Nothing committed may be forgotten: the
// first command after the restart gets a higher index than the last one
// before it. A Raft that persists its snapshot and its state separately,
// or forgets the snapshot's index and term, fails here (raft-bugs.md M20).
func snapshotAllCrash(c *Cluster) {
	c.One(c.RandCommand(), c.n, true)
	for range 5 {
		for range snapshotInterval/2 + c.Rand(snapshotInterval) {
			c.One(c.RandCommand(), c.n, true)
		}
		index1 := c.One(c.RandCommand(), c.n, true)
		c.crashRestartAll()
		index2 := c.One(c.RandCommand(), c.n, true)
		if index2 < index1+1 {
			c.t.Fatalf("index decreased from %v to %v", index1, index2)
		}
	}
}

// snapshotInit: commit past a snapshot, then crash and restart every
// server twice, with one command between. The second restart finds only
// what the first incarnation persisted: a Raft that does not keep the
// snapshot it read at startup saves its state without it, and restarts
// with a base its service has no snapshot for (raft-bugs.md M20).
func snapshotInit(c *Cluster) {
	c.One(c.RandCommand(), c.n, true)
	for range snapshotInterval + 1 {
		c.One(c.RandCommand(), c.n, true)
	}
	c.crashRestartAll()
	index1 := c.One(c.RandCommand(), c.n, true)
	c.crashRestartAll()
	if index2 := c.One(c.RandCommand(), c.n, true); index2 < index1+1 {
		c.t.Fatalf("index decreased from %v to %v", index1, index2)
	}
}

// snapshotDuringApply forces the snapshot/apply race (raft-bugs.md M19),
// which the lab's real-time tests find only by chance. A follower, cut
// off, misses a few commands; its service stops taking ApplyMsgs; back on
// the network it learns the commands and that they are committed in one
// go, so its Raft has a batch of entries waiting to be applied. Cut off
// again, it falls behind the others' snapshots; back again, the leader's
// InstallSnapshot reaches it while the batch still waits. Released, its
// service must get the waiting entries in order and then the snapshot: an
// applier that reads the log again after the snapshot moved its base (an
// index out of range, or another entry), or a snapshot delivered between
// two waiting entries (an out of order apply), fails here every run.
func snapshotDuringApply(c *Cluster) {
	c.One(c.RandCommand(), c.n, true)
	victim := (c.CheckOneLeader() + 1) % c.n
	c.Disconnect(victim)
	for range snapshotInterval / 2 {
		c.One(c.RandCommand(), c.n-1, true)
	}
	c.HoldApplier(victim)
	c.Connect(victim)
	time.Sleep(2 * ElectionTimeout) // the victim gets the entries and their commit
	c.Disconnect(victim)
	for range 3 * snapshotInterval {
		c.One(c.RandCommand(), c.n-1, true)
	}
	c.Connect(victim)
	time.Sleep(2 * ElectionTimeout) // a leader brings it up to date with its snapshot
	c.ReleaseApplier(victim)
	c.One(c.RandCommand(), c.n, true)
}
