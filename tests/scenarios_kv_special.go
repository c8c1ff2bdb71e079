package tests

import (
	"fmt"
	"strconv"
	"sync"
	"time"
)

// The KV scenarios that are not GenericTest.

// speedOps is how many sequential Appends Speed times; speedBound is the
// lab's bound on their mean: a third of a heartbeat interval, so a leader
// must start replicating at once, not at its next heartbeat.
const (
	speedOps   = 1000
	speedBound = 100 * time.Millisecond / 3
)

// speed: 1000 sequential Appends by one client must average under 33 ms
// (of virtual time).
func speed(k *KVCluster) {
	rec := k.History("appends")
	c := k.MakeClient(rec, nil)
	c.Get("x") // a leader is elected
	start := time.Now()
	for i := range speedOps {
		c.Append("x", fmt.Sprintf("x 0 %d y", i))
	}
	mean := time.Since(start) / speedOps
	k.t.Logf("%d sequential Appends: %v/op (bound %v/op)", speedOps, mean, speedBound)
	if msg := checkAppends(0, c.Get("x"), speedOps); msg != "" {
		k.fail(msg)
	}
	if mean > speedBound {
		k.fail(fmt.Sprintf("Operations completed too slowly %v/op > %v/op", mean, speedBound))
	}
	k.checkSizes()
	k.stopIfFailed()
}

// unreliableOneKey: five clients append ten values each to one key over
// an unreliable network; each client's appends appear once and in order.
func unreliableOneKey(k *KVCluster) {
	rec := k.History("appends to k")
	c := k.MakeClient(rec, nil)
	c.Put("k", "")
	const clients, upto = 5, 10
	var wg sync.WaitGroup
	for cli := range clients {
		ck := k.MakeClient(rec, nil)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range upto {
				ck.Append("k", fmt.Sprintf("x %d %d y", cli, i))
			}
		}()
	}
	k.waitClients(&wg)
	v := c.Get("k")
	for cli := range clients {
		if msg := checkAppends(cli, v, upto); msg != "" {
			k.fail(msg)
		}
	}
	k.stopIfFailed()
}

// onePartition: with the leader in a minority, the minority's clients
// cannot complete a Put or a Get, the majority's can, and after the
// partition heals the minority's operations complete.
func onePartition(k *KVCluster) {
	rec := k.History("one partition")
	ck := k.MakeClient(rec, nil)
	ck.Put("1", "13")
	leader := k.CheckOneLeader()
	minority := []int{leader, (leader + 1) % k.n}
	var majority []int
	for i := range k.n {
		if i != minority[0] && i != minority[1] {
			majority = append(majority, i)
		}
	}
	k.Partition(rec, majority, minority)
	ckp1 := k.MakeClient(rec, majority)
	ckp2a := k.MakeClient(rec, minority)
	ckp2b := k.MakeClient(rec, minority)
	ckp1.Put("1", "14")
	ckp1.Check("1", "14")

	// The Get goes first, so it waits at the index the majority fills
	// with its Put("1", "14"): a server that answered it with that
	// entry's result would return "", which no history explains.
	done0, done1 := make(chan struct{}), make(chan struct{})
	go func() { ckp2b.Get("1"); close(done1) }()
	// By now the Get's clerk has found the minority's leader: it tried at
	// most the three servers it cannot reach (a failed call takes under
	// 100 ms) and the other minority server first.
	time.Sleep(500 * time.Millisecond)
	go func() { ckp2a.Put("1", "15"); close(done0) }()
	select {
	case <-done0:
		k.fatal(fmt.Errorf("Put in minority completed"))
	case <-done1:
		k.fatal(fmt.Errorf("Get in minority completed"))
	case <-time.After(time.Second):
	}
	ckp1.Check("1", "14")
	ckp1.Put("1", "16")
	ckp1.Check("1", "16")

	k.Partition(rec, k.All())
	ckp2a.ConnectTo(nil)
	ckp2b.ConnectTo(nil)
	time.Sleep(kvElectionTimeout)
	for name, done := range map[string]chan struct{}{"Put": done0, "Get": done1} {
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			k.fatal(fmt.Errorf("%s did not complete within 3 s after the partition healed", name))
		}
	}
	ck.Check("1", "15")
}

// snapshotRPC: a server cut off while the others snapshot catches up by
// InstallSnapshot, and every value survives.
func snapshotRPC(k *KVCluster) {
	rec := k.History("snapshot RPC")
	ck := k.MakeClient(rec, nil)
	ck.Put("a", "A")
	ck.Check("a", "A")

	k.Partition(rec, []int{0, 1}, []int{2})
	ck1 := k.MakeClient(rec, []int{0, 1})
	for i := range 50 {
		ck1.Put(strconv.Itoa(i), strconv.Itoa(i))
	}
	time.Sleep(kvElectionTimeout)
	ck1.Put("b", "B")
	if size := k.LogSize(); size > 8*k.maxraftstate {
		k.fatal(fmt.Errorf("logs were not trimmed (%d > 8*%d)", size, k.maxraftstate))
	}

	// Server 2, now in the majority, must get the snapshot.
	k.Partition(rec, []int{0, 2}, []int{1})
	ck2 := k.MakeClient(rec, []int{0, 2})
	ck2.Put("c", "C")
	ck2.Put("d", "D")
	ck2.Check("a", "A")
	ck2.Check("b", "B")
	ck2.Check("1", "1")
	ck2.Check("49", "49")

	k.Partition(rec, k.All())
	ck.Put("e", "E")
	ck.Check("c", "C")
	ck.Check("e", "E")
	ck.Check("1", "1")
	k.stopIfFailed()
}

// snapshotSize: many small writes of one key keep both the snapshot
// (under 500 bytes) and the Raft state small.
func snapshotSize(k *KVCluster) {
	const maxSnapshot = 500
	rec := k.History("snapshot size")
	ck := k.MakeClient(rec, nil)
	for range 200 {
		ck.Put("x", "0")
		ck.Check("x", "0")
		ck.Put("x", "1")
		ck.Check("x", "1")
	}
	k.checkSizes()
	if size := k.SnapshotSize(); size > maxSnapshot {
		k.fail(fmt.Sprintf("snapshot too large (%d > %d)", size, maxSnapshot))
	}
	k.stopIfFailed()
}
