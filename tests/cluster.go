package tests

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// ClusterOptions configures a Cluster. The zero value is a reliable
// network with long delays and no snapshots.
type ClusterOptions struct {
	Unreliable bool   // lose and delay messages from the start
	Snapshot   bool   // the applier calls Snapshot every 10 applied entries (3D)
	Seed       uint64 // the seed of the cluster's PRNGs; 0: RAFTSPEC_SEED, or a random one
	service    startService
	histories  *histories    // where History records; nil: nowhere
	clock      *atomic.Int64 // where the network notes the virtual time of each call; nil: nowhere
	// noInvariants runs no invariants Observer (Options.Skip has CheckInvariants).
	noInvariants bool
	_            struct{}
}

// startService starts a service above a new incarnation of server i (the
// key/value servers of kvScenarios): it makes the Raft with mk, and
// returns it, the RPC receivers to register beside it, and what ends the
// service on a crash.
type startService func(i int, ends []raftapi.Peer, p *Persister, mk raftapi.MakeFunc) (rf raftapi.Raft, rcvrs []any, kill func())

// SeedEnv names the environment variable that fixes the seed of every
// cluster whose options do not: a failure prints its seed, and running the
// scenario again with SeedEnv set to it repeats the random choices of the
// harness (the network's losses and delays, the commands, the victims) and
// of the reference (its election timeouts, through raft.Harness). It does
// not repeat the goroutine interleavings, which the Go scheduler picks: a
// failure that needs one may still not recur. The simulator (raftspec sim)
// replays a run exactly.
const SeedEnv = "RAFTSPEC_SEED"

// Cluster is n servers made by one raftapi.MakeFunc, joined by a Network,
// each with its applier and its Persister, as in the lab's tester. Its
// methods carry the lab's names so a student can write scenarios of their
// own; those that check fail the test (t.Fatalf) as the lab's do.
//
// Failures found off the test goroutine (a wrong apply, an invariant
// violation, a bad RPC type) are reported with t.Errorf at once and make
// the next check on the test goroutine stop the test.
type Cluster struct {
	t     testing.TB
	mk    raftapi.MakeFunc
	n     int
	net   *Network
	opts  ClusterOptions
	seed  uint64
	obs   *observation
	begin time.Time
	// before are the goroutines that existed when the cluster was made,
	// on the wall clock (nil in a synctest bubble): the leak check's
	// baseline.
	before map[string]bool

	mu          sync.Mutex
	rng         *rand.Rand
	rafts       []raftapi.Raft // live incarnations; nil when crashed
	service     startService   // nil: the harness's applier serves each Raft
	kills       []func()       // what Crash calls besides Raft's Kill
	saved       []*Persister
	stops       []chan struct{} // closed when the incarnation crashes
	holds       []chan struct{} // non-nil while server i's applier is held; closed to release it
	nudges      []chan struct{} // tells the applier of the live incarnation to look at holds again
	logs        []map[int]any   // what each server applied: index → command
	lastApplied []int
	starts      []int // incarnations of each server made so far
	maxIndex    int
	failures    []string // failures reported off the test goroutine
	seen        map[string]bool
	appliers    sync.WaitGroup
}

// NewCluster makes n servers with mk, starts and connects them all.
func NewCluster(t testing.TB, mk raftapi.MakeFunc, n int, opts ClusterOptions) *Cluster {
	seed := opts.Seed
	if env := os.Getenv(SeedEnv); seed == 0 && env != "" {
		var err error
		if seed, err = strconv.ParseUint(env, 10, 64); err != nil || seed == 0 {
			t.Fatalf("%s=%q: not a seed (a number from 1 to 2^64-1, as a failure reports it)", SeedEnv, env)
		}
	}
	if seed == 0 {
		seed = rand.Uint64()
	}
	c := &Cluster{
		t: t, mk: mk, n: n, opts: opts, seed: seed,
		net:         NewNetwork(n, seed),
		rng:         rand.New(rand.NewPCG(seed, 1)),
		rafts:       make([]raftapi.Raft, n),
		kills:       make([]func(), n),
		saved:       make([]*Persister, n),
		stops:       make([]chan struct{}, n),
		holds:       make([]chan struct{}, n),
		nudges:      make([]chan struct{}, n),
		logs:        make([]map[int]any, n),
		lastApplied: make([]int, n),
		starts:      make([]int, n),
		begin:       time.Now(),
	}
	if !inBubble() {
		c.before = goroutineIDs()
	}
	c.net.onError = func(msg string) { c.fail("network: " + msg) }
	c.net.SetReliable(!opts.Unreliable)
	c.obs = newObservation(c, !opts.noInvariants)
	c.net.onDelivered = c.obs.delivered
	c.net.clock = opts.clock
	c.net.SetLongDelays(opts.service == nil)
	c.service = opts.service
	for i := range n {
		c.saved[i] = NewPersister()
		c.Restart(i)
	}
	for i := range n {
		c.Connect(i)
	}
	return c
}

// N is the number of servers.
func (c *Cluster) N() int { return c.n }

// Net is the cluster's network, for scenarios that need its knobs.
func (c *Cluster) Net() *Network { return c.net }

// Seed is the seed of the cluster's PRNGs.
func (c *Cluster) Seed() uint64 { return c.seed }

// Raft returns server i's live incarnation, or nil if it is crashed.
func (c *Cluster) Raft(i int) raftapi.Raft {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rafts[i]
}

// Rand returns a random int in [0, n) from the cluster's PRNG.
func (c *Cluster) Rand(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.IntN(n)
}

// All is every server's number.
func (c *Cluster) All() []int {
	all := make([]int, c.n)
	for i := range all {
		all[i] = i
	}
	return all
}

// Connect reconnects server i to the others.
func (c *Cluster) Connect(i int) { c.net.Connect(i) }

// Disconnect cuts server i off from the others.
func (c *Cluster) Disconnect(i int) { c.net.Disconnect(i) }

// Connected reports whether server i is connected.
func (c *Cluster) Connected(i int) bool { return c.net.IsConnected(i) }

// SetReliable switches message loss and delay off (true) or on.
func (c *Cluster) SetReliable(yes bool) { c.net.SetReliable(yes) }

// SetLongReordering switches long reply delays on or off.
func (c *Cluster) SetLongReordering(yes bool) { c.net.SetLongReordering(yes) }

// RPCCount is the number of RPCs delivered to server i.
func (c *Cluster) RPCCount(i int) int { return c.net.RPCCount(i) }

// RPCTotal is the number of RPCs sent so far.
func (c *Cluster) RPCTotal() int { return c.net.TotalRPCs() }

// Bytes is the number of RPC bytes sent so far.
func (c *Cluster) Bytes() int64 { return c.net.TotalBytes() }

// Crash kills server i as the lab's crash1 does: it is cut off, its
// incarnation is removed from the network (so it never replies again), its
// storage is copied away from it, and Kill is called.
//
// The crash happens at the copy: the next incarnation starts from what the
// storage held then. The old one runs on until Kill stops it, and what it
// writes in between goes into storage nobody reads; the invariants
// Observer is told of the crash just before the copy, so it does not
// expect the next incarnation to keep those writes.
func (c *Cluster) Crash(i int) {
	c.Disconnect(i)
	c.net.DeleteServer(i)
	c.obs.crashed(i) // before the copy: see invariants.Observer.Crash
	c.mu.Lock()
	rf, kill := c.rafts[i], c.kills[i]
	c.rafts[i], c.kills[i] = nil, nil
	// The killed instance may still write; it writes into a copy nobody
	// reads any more.
	c.saved[i] = c.saved[i].Copy()
	if c.stops[i] != nil {
		close(c.stops[i])
		c.stops[i] = nil
	}
	c.mu.Unlock()
	switch {
	case kill != nil:
		kill() // the service kills its Raft
	case rf != nil:
		rf.Kill()
	}
	// An implementation that can say it stopped on an error of its own
	// (the reference: a message that would not wait for its state to be
	// saved) fails the scenario, even if nothing else noticed.
	if e, ok := rf.(interface{ Err() error }); ok {
		if err := e.Err(); err != nil {
			c.failOnce(fmt.Sprintf("server %d stopped on an error of its own: %v", i, err), "err: "+err.Error())
		}
	}
}

// Restart crashes server i if it is running and makes a new incarnation
// from its saved state, as the lab's start1. It does not connect it.
func (c *Cluster) Restart(i int) {
	c.Crash(i)
	ends := c.net.Ends(i)
	c.mu.Lock()
	c.saved[i] = c.saved[i].Copy()
	p := c.saved[i]
	// What the cluster offers the new incarnation (raft.Harness): its
	// Observer, and a seed drawn from the cluster's.
	p.obs, p.seed = c.obs.obs, incarnationSeed(c.seed, i, c.starts[i])
	c.starts[i]++
	c.logs[i] = map[int]any{}
	c.lastApplied[i] = 0
	c.mu.Unlock()
	if c.service != nil {
		rf, rcvrs, kill := c.service(i, ends, p, c.mk)
		if rf == nil {
			return // the service could not start; it said why
		}
		c.mu.Lock()
		c.rafts[i], c.kills[i] = rf, kill
		c.mu.Unlock()
		c.net.AddServer(i, append([]any{rf}, rcvrs...)...)
		return
	}
	// A service restarts from its own snapshot; Raft does not deliver it
	// again (as in the lab).
	if snap := p.ReadSnapshot(); len(snap) > 0 {
		if msg := c.ingestSnapshot(i, snap, -1); msg != "" {
			c.fail(msg)
		}
	}

	applyCh := make(chan raftapi.ApplyMsg)
	rf := c.mk(ends, i, p, applyCh)
	if rf == nil {
		c.t.Fatalf("server %d: Make returned nil", i)
	}
	if e, ok := rf.(interface{ Err() error }); ok {
		if err := e.Err(); err != nil {
			c.failOnce(fmt.Sprintf("server %d: Make: %v", i, err), "err: "+err.Error())
		}
	}
	c.obs.made(i, rf)
	stop, nudge := make(chan struct{}), make(chan struct{})
	c.mu.Lock()
	c.rafts[i] = rf
	c.stops[i] = stop
	c.nudges[i] = nudge
	c.holds[i] = nil // a new incarnation's service is not held
	c.mu.Unlock()
	c.net.AddServer(i, rf)
	c.appliers.Add(1)
	go c.applier(i, rf, applyCh, stop, nudge)
}

// incarnationSeed is the seed of the k-th incarnation of server i of a
// cluster of the given seed: distinct for every server and incarnation,
// and a function of the cluster's seed alone.
func incarnationSeed(seed uint64, i, k int) uint64 {
	x := seed ^ uint64(i+1)*0x9e3779b97f4a7c15 ^ uint64(k+1)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	return x * 0x94d049bb133111eb
}

// fail records a failure found off the test goroutine and reports it.
func (c *Cluster) fail(msg string) {
	c.mu.Lock()
	c.failures = append(c.failures, msg)
	first := len(c.failures) == 1
	c.mu.Unlock()
	if first {
		c.t.Errorf("%s", msg)
	}
}

// Failures returns the failures recorded off the test goroutine so far.
func (c *Cluster) Failures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.failures...)
}

// failedError is a failure already reported with t.Errorf.
type failedError struct{ msg string }

func (e *failedError) Error() string { return e.msg }

// err returns the first failure found so far, from the appliers, the
// network or the invariants Observer, or nil. An Observer violation is
// recorded (and reported) like the others.
func (c *Cluster) err() error {
	if err := c.obs.err(); err != nil {
		c.failOnce("invariant violated: "+err.Error(), err.Error())
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.failures) > 0 {
		return &failedError{c.failures[0]}
	}
	return nil
}

// failOnce is fail, unless a failure with key was recorded already.
func (c *Cluster) failOnce(msg, key string) {
	c.mu.Lock()
	if c.seen == nil {
		c.seen = map[string]bool{}
	}
	dup := c.seen[key]
	c.seen[key] = true
	c.mu.Unlock()
	if !dup {
		c.fail(msg)
	}
}

// fatal ends the test with err, reporting it unless it was reported.
// Only the test goroutine may call it.
func (c *Cluster) fatal(err error) {
	c.t.Helper()
	if _, reported := err.(*failedError); reported {
		c.t.FailNow()
	}
	c.t.Fatalf("%v", err)
}

// stopIfFailed ends the test if a failure was found anywhere (it has been
// reported already). Every check calls it, so a scenario stops soon after
// its first failure. Only the test goroutine may call it.
func (c *Cluster) stopIfFailed() {
	if c.err() != nil {
		c.t.FailNow()
	}
}
