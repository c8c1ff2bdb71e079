package tests

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/raftspec/raftspec/kv"
	"github.com/raftspec/raftspec/linearizability"
	"github.com/raftspec/raftspec/raftapi"
)

// KVScenario is one scenario of the key/value suite: a test of the lab's
// kvraft (4B, 4C), by its lab name, run against a KV service (package kv)
// over the implementation under test.
type KVScenario struct {
	Name         string // the lab's name without the part: "Concurrent"
	Part         string // "4B", "4C"
	Servers      int
	Unreliable   bool
	MaxRaftState int // the servers snapshot at this many bytes of Raft state; -1: never
	Run          func(k *KVCluster)
}

// FullName is the lab's test name without "Test": "Concurrent4B".
func (s KVScenario) FullName() string { return s.Name + s.Part }

// LookupKV returns the KV scenario with the given full name.
func LookupKV(fullName string) (KVScenario, bool) {
	for _, s := range KVScenarios() {
		if s.FullName() == fullName {
			return s, true
		}
	}
	return KVScenario{}, false
}

// kvLatency is the round trip of every RPC in the KV suite in virtual
// time (on the wall clock, none is added). In virtual time nothing else
// takes time: without it, an operation on a reliable
// network would take none, clients would run unboundedly many in their
// few seconds, and Speed's bound would measure nothing. 10 ms gives
// operation rates near those of the lab's own runs (about 1,000
// operations in a scenario).
const kvLatency = 10 * time.Millisecond

// RunKV runs every KV scenario (those opts.Run selects) against a KV
// service over the implementation mk makes, each as a subtest under its
// lab name.
func RunKV(t *testing.T, mk raftapi.MakeFunc, opts *Options) {
	for _, s := range KVScenarios() {
		if !opts.selects(s.FullName(), s.Part) {
			continue
		}
		t.Run(s.FullName(), func(t *testing.T) { RunKVScenario(t, s, mk, opts) })
	}
}

// RunKVScenario runs one KV scenario against mk, then checks each
// history its clients recorded for linearizability with porcupine
// (outside virtual time, where porcupine's budget means real time).
func RunKVScenario(t *testing.T, s KVScenario, mk raftapi.MakeFunc, opts *Options) {
	hs := histories{skip: opts.skips(CheckLinearizability)}
	began := time.Now() // outside the bubble: real time
	var st *Stats       // nil until the cluster's end
	// Deferred: a failed scenario leaves inTime by FailNow, and its
	// histories are checked all the same.
	defer func() {
		lin := hs.check(t)
		summary := ""
		if st != nil {
			summary = fmt.Sprintf("%s  ops %6d", st.summaryLine(), st.Ops)
		}
		fmt.Fprintf(opts.summary(), "%s%s\n", summary, lin)
		if st != nil {
			st.finish(t, opts.wallClock(), began, lin)
		}
	}()
	// On the wall clock, real time passes as it does for the lab: no
	// latency is added.
	latency := kvLatency
	if opts.wallClock() {
		latency = 0
	}
	inTime(t, s.FullName(), opts, func(t *testing.T, clock *atomic.Int64) {
		k := newKVCluster(t, mk, s, &hs, clock, latency, opts.skips(CheckInvariants))
		defer func() { st = k.end(s.FullName()) }()
		s.Run(k)
	})
}

// KVCluster is a Cluster whose servers run the KV service, with clients
// whose operations are recorded for the linearizability check.
type KVCluster struct {
	*Cluster
	maxraftstate int
	ctx          context.Context // done when the scenario ends: clients stop retrying
	cancel       context.CancelFunc

	mu     sync.Mutex
	ops    int // operations completed
	nextID int // the next client's id
}

func newKVCluster(t testing.TB, mk raftapi.MakeFunc, s KVScenario, hs *histories, clock *atomic.Int64, latency time.Duration, noInvariants bool) *KVCluster {
	k := &KVCluster{maxraftstate: s.MaxRaftState}
	k.ctx, k.cancel = context.WithCancel(context.Background())
	k.Cluster = NewCluster(t, mk, s.Servers, ClusterOptions{Unreliable: s.Unreliable, service: k.startServer, histories: hs, clock: clock, noInvariants: noInvariants})
	k.net.SetLatency(latency)
	return k
}

// startServer is the Cluster's service: a kv.Server over a new Raft.
func (k *KVCluster) startServer(i int, ends []raftapi.Peer, p *Persister, mk raftapi.MakeFunc) (raftapi.Raft, []any, func()) {
	s, err := kv.StartServer(ends, i, p, k.maxraftstate, mk)
	if err != nil {
		k.fail(err.Error())
		return nil, nil, nil
	}
	return s.Raft(), []any{s}, func() {
		s.Kill()
		if err := s.Err(); err != nil {
			k.fail(err.Error())
		}
	}
}

// end stops the clients and ends the cluster; it returns the figures of
// the summary line, printed by the caller with the histories' check.
func (k *KVCluster) end(name string) *Stats {
	k.cancel()
	st := k.Cluster.end(name, io.Discard)
	k.mu.Lock()
	defer k.mu.Unlock()
	st.Ops = k.ops
	return st
}

// History starts a new history, checked with the KV model when the
// scenario ends; name says which part of the scenario it records.
func (k *KVCluster) History(name string) *linearizability.Recorder {
	return k.Cluster.History(name, linearizability.KVModel())
}

// KVClient is one client: a kv.Clerk whose operations are recorded in a
// history.
type KVClient struct {
	k   *KVCluster
	id  int
	ck  *kv.Clerk
	net *Client
	rec *linearizability.Recorder
}

// MakeClient returns a client recording into rec, connected to the
// servers listed (nil: all).
func (k *KVCluster) MakeClient(rec *linearizability.Recorder, servers []int) *KVClient {
	k.mu.Lock()
	id := k.nextID
	k.nextID++
	k.mu.Unlock()
	cl := k.net.MakeClient()
	cl.ConnectTo(servers)
	return &KVClient{k: k, id: id, ck: kv.MakeClerk(cl.Ends()), net: cl, rec: rec}
}

// ConnectTo connects the client to the servers listed (nil: all).
func (c *KVClient) ConnectTo(servers []int) { c.net.ConnectTo(servers) }

// Get, Put and Append run one operation until it is applied, and record
// it. If the scenario ends first, the operation is recorded with an
// unknown outcome.
func (c *KVClient) Get(key string) string { return c.do(kv.Get, key, "") }
func (c *KVClient) Put(key, value string) { c.do(kv.Put, key, value) }
func (c *KVClient) Append(key, value string) {
	c.do(kv.Append, key, value)
}

var linOp = map[kv.Kind]linearizability.KVOp{kv.Get: linearizability.Get, kv.Put: linearizability.Put, kv.Append: linearizability.Append}

func (c *KVClient) do(kind kv.Kind, key, value string) string {
	call := c.rec.Call(c.id, linearizability.KVInput{Op: linOp[kind], Key: key, Value: value})
	v, err := c.ck.Do(c.k.ctx, kv.Op{Kind: kind, Key: key, Value: value})
	if err != nil {
		call.Timeout()
		return ""
	}
	call.Return(linearizability.KVOutput{Value: v})
	c.k.mu.Lock()
	c.k.ops++
	c.k.mu.Unlock()
	return v
}

// Check fails the scenario unless a Get of key returns want.
func (c *KVClient) Check(key, want string) {
	if got := c.Get(key); got != want {
		c.k.fail(fmt.Sprintf("Get(%q) = %q, want %q", key, shorten(got), shorten(want)))
	}
}

func shorten(s string) string {
	if len(s) <= 80 {
		return s
	}
	return s[:37] + "…" + s[len(s)-37:]
}

// Partition splits the servers into groups that reach only their own
// members, and notes it on rec's timeline (rec may be nil).
func (k *KVCluster) Partition(rec *linearizability.Recorder, groups ...[]int) {
	k.net.Partition(groups...)
	if rec != nil {
		kind := linearizability.Partition
		if len(groups) == 1 && len(groups[0]) == k.n {
			kind = linearizability.Heal
		}
		rec.Fault(kind, fmt.Sprint(groups))
	}
}

// SnapshotSize is the largest persisted snapshot of any server, in bytes.
func (k *KVCluster) SnapshotSize() int {
	k.Cluster.mu.Lock()
	defer k.Cluster.mu.Unlock()
	size := 0
	for _, p := range k.saved {
		size = max(size, p.SnapshotSize())
	}
	return size
}
