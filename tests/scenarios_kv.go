package tests

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftspec/raftspec/linearizability"
)

// The KV suite: the lab's kvraft tests (4B, and 4C with snapshots), by
// their names. Each generic scenario runs three iterations; every
// iteration uses keys of its own, so its history is checked on its own
// against a store that starts empty.

// kvElectionTimeout is the lab's electionTimeout of the kv tests.
const kvElectionTimeout = time.Second

// clientTime is how long the clients of one iteration run: the lab ran
// them 5 s (2020–24) and then 1 s (2025–26). 2 s leaves room for two
// partitions an iteration, and keeps histories (and the quadratic cost of
// re-saving a growing state, which the race detector multiplies) small.
const clientTime = 2 * time.Second

// waitClients bounds how long, after the faults heal, the clients may
// take to finish their last operation: a service that cannot make
// progress fails the scenario instead of hanging it.
const waitClients = 30 * time.Second

// generic is the lab's GenericTest.
type generic struct {
	clients    int
	crash      bool // crash and restart every server at the end of each iteration
	partitions bool // reshuffle the servers into two partitions every second
	randomKeys bool // clients write random keys (and Put), and reads are not checked by the client
}

// KVScenarios is the KV suite, in the lab's order.
func KVScenarios() []KVScenario {
	g := func(name, part string, servers int, unreliable bool, maxraftstate int, p generic) KVScenario {
		return KVScenario{Name: name, Part: part, Servers: servers, Unreliable: unreliable, MaxRaftState: maxraftstate, Run: p.run}
	}
	const snap = 1000 // the lab's maxraftstate for 4C
	return []KVScenario{
		g("Basic", "4B", 5, false, -1, generic{clients: 1}),
		{Name: "Speed", Part: "4B", Servers: 3, MaxRaftState: -1, Run: speed},
		g("Concurrent", "4B", 5, false, -1, generic{clients: 5}),
		g("Unreliable", "4B", 5, true, -1, generic{clients: 5}),
		{Name: "UnreliableOneKey", Part: "4B", Servers: 3, Unreliable: true, MaxRaftState: -1, Run: unreliableOneKey},
		{Name: "OnePartition", Part: "4B", Servers: 5, MaxRaftState: -1, Run: onePartition},
		g("ManyPartitionsOneClient", "4B", 5, false, -1, generic{clients: 1, partitions: true}),
		g("ManyPartitionsManyClients", "4B", 5, false, -1, generic{clients: 5, partitions: true}),
		g("PersistOneClient", "4B", 5, false, -1, generic{clients: 1, crash: true}),
		g("PersistConcurrent", "4B", 5, false, -1, generic{clients: 5, crash: true}),
		g("PersistConcurrentUnreliable", "4B", 5, true, -1, generic{clients: 5, crash: true}),
		g("PersistPartition", "4B", 5, false, -1, generic{clients: 5, crash: true, partitions: true}),
		g("PersistPartitionUnreliable", "4B", 5, true, -1, generic{clients: 5, crash: true, partitions: true}),
		g("PersistPartitionUnreliableLinearizable", "4B", 7, true, -1, generic{clients: 15, crash: true, partitions: true, randomKeys: true}),

		{Name: "SnapshotRPC", Part: "4C", Servers: 3, MaxRaftState: snap, Run: snapshotRPC},
		{Name: "SnapshotSize", Part: "4C", Servers: 3, MaxRaftState: snap, Run: snapshotSize},
		{Name: "Speed", Part: "4C", Servers: 3, MaxRaftState: snap, Run: speed},
		g("SnapshotRecover", "4C", 5, false, snap, generic{clients: 1, crash: true}),
		g("SnapshotRecoverManyClients", "4C", 5, false, snap, generic{clients: 20, crash: true}),
		g("SnapshotUnreliable", "4C", 5, true, snap, generic{clients: 5}),
		g("SnapshotUnreliableRecover", "4C", 5, true, snap, generic{clients: 5, crash: true}),
		g("SnapshotUnreliableRecoverConcurrentPartition", "4C", 5, true, snap, generic{clients: 5, crash: true, partitions: true}),
		g("SnapshotUnreliableRecoverConcurrentPartitionLinearizable", "4C", 7, true, snap, generic{clients: 15, crash: true, partitions: true, randomKeys: true}),
	}
}

// run is GenericTest: three iterations of clients running concurrently
// under the faults asked for, each iteration's history checked, each
// client's appends found exactly once and in order, and the log kept
// small when the servers snapshot.
func (g generic) run(k *KVCluster) {
	for it := range 3 {
		rec := k.History(fmt.Sprintf("iteration %d", it))
		prefix := fmt.Sprintf("i%d/", it)
		var stop atomic.Bool
		counts := make([]int, g.clients)
		clients := make([]*KVClient, g.clients)
		var wg sync.WaitGroup
		for cli := range g.clients {
			clients[cli] = k.MakeClient(rec, nil)
			wg.Add(1)
			go func() {
				defer wg.Done()
				counts[cli] = g.client(k, clients[cli], cli, prefix, &stop)
			}()
		}
		var partitioner sync.WaitGroup
		var stopPartitions atomic.Bool
		if g.partitions {
			partitioner.Add(1)
			go func() {
				defer partitioner.Done()
				k.partitioner(rec, &stopPartitions)
			}()
		}
		time.Sleep(clientTime)
		stop.Store(true)
		stopPartitions.Store(true)
		partitioner.Wait()
		if g.partitions {
			k.Partition(rec, k.All())
			time.Sleep(kvElectionTimeout)
		}
		if g.crash {
			for i := range k.n {
				k.Crash(i)
			}
			rec.Fault(linearizability.Crash, "every server")
			time.Sleep(kvElectionTimeout)
			for i := range k.n {
				k.Restart(i)
			}
			k.Partition(nil, k.All())
			rec.Fault(linearizability.Restart, "every server")
		}
		k.waitClients(&wg)
		k.stopIfFailed()
		if !g.randomKeys {
			for cli, c := range clients {
				key := prefix + strconv.Itoa(cli)
				if msg := checkAppends(cli, c.Get(key), counts[cli]); msg != "" {
					k.fail(msg)
				}
			}
		}
		k.checkSizes()
		k.stopIfFailed()
	}
}

// client is one client of GenericTest. With fixed keys it owns key cli,
// appends to it half the time and otherwise reads it back, and checks it
// reads what it wrote. It returns how many values it appended or put.
func (g generic) client(k *KVCluster, c *KVClient, cli int, prefix string, stop *atomic.Bool) int {
	key := prefix + strconv.Itoa(cli)
	last := ""
	if !g.randomKeys {
		c.Put(key, last)
	}
	j := 0
	for !stop.Load() && k.ctx.Err() == nil {
		if g.randomKeys {
			key = prefix + strconv.Itoa(k.Rand(g.clients))
		}
		nv := fmt.Sprintf("x %d %d y", cli, j)
		switch r := k.Rand(1000); {
		case r < 500:
			c.Append(key, nv)
			if !g.randomKeys {
				last += nv
			}
			j++
		case g.randomKeys && r < 600:
			c.Put(key, nv)
			j++
		default:
			v := c.Get(key)
			if !g.randomKeys && v != last && k.ctx.Err() == nil {
				k.fail(fmt.Sprintf("client %d: Get(%q) = %q, want %q", cli, key, shorten(v), shorten(last)))
				return j
			}
		}
	}
	return j
}

// partitioner reshuffles the servers into two random groups every second
// or so, from half a second in, until stop.
func (k *KVCluster) partitioner(rec *linearizability.Recorder, stop *atomic.Bool) {
	time.Sleep(kvElectionTimeout / 2)
	for !stop.Load() {
		var a, b []int
		for i := range k.n {
			if k.Rand(2) == 0 {
				a = append(a, i)
			} else {
				b = append(b, i)
			}
		}
		k.Partition(rec, a, b)
		time.Sleep(kvElectionTimeout + time.Duration(k.Rand(200))*time.Millisecond)
	}
}

// waitClients waits for the clients to finish their last operation, and
// fails the scenario if they cannot within waitClients of virtual time:
// the service made no progress.
func (k *KVCluster) waitClients(wg *sync.WaitGroup) {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(waitClients):
		k.fail(fmt.Sprintf("clients did not finish their operations within %v after the faults healed: the service makes no progress", waitClients))
		k.cancel()
		<-done
	}
}

// checkAppends checks that v holds client cli's appends 0..count-1,
// each exactly once and in order (the lab's checkClntAppends).
func checkAppends(cli int, v string, count int) string {
	lastOff := -1
	for j := range count {
		wanted := fmt.Sprintf("x %d %d y", cli, j)
		off := strings.Index(v, wanted)
		if off < 0 {
			return fmt.Sprintf("client %d: missing element %q in Append result %q", cli, wanted, shorten(v))
		}
		if strings.LastIndex(v, wanted) != off {
			return fmt.Sprintf("client %d: duplicate element %q in Append result %q", cli, wanted, shorten(v))
		}
		if off <= lastOff {
			return fmt.Sprintf("client %d: wrong order for element %q in Append result %q", cli, wanted, shorten(v))
		}
		lastOff = off
	}
	return ""
}

// checkSizes: with snapshots, the Raft state stays within 8×maxraftstate;
// without, no snapshot is ever made.
func (k *KVCluster) checkSizes() {
	if k.maxraftstate > 0 {
		if size := k.LogSize(); size > 8*k.maxraftstate {
			k.fail(fmt.Sprintf("logs were not trimmed (%d > 8*%d)", size, k.maxraftstate))
		}
	}
	if k.maxraftstate < 0 {
		if size := k.SnapshotSize(); size > 0 {
			k.fail(fmt.Sprintf("snapshot too large (%d), should not be used when maxraftstate = %d", size, k.maxraftstate))
		}
	}
}
