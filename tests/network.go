package tests

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// Network is a simulated network with the lab's RPC semantics: a Call
// names a method ("Raft.AppendEntries"), arguments and replies cross as gob
// bytes (so peers share no memory and unexported fields are lost, as on a
// real wire), and the network can lose, delay and reorder messages.
//
// Every wait in Call is a time.Sleep or a channel receive, so the network
// runs in synctest's virtual time as well as on the wall clock.
type Network struct {
	mu             sync.Mutex
	reliable       bool
	longDelays     bool // a call to an unreachable peer fails after up to 7 s
	longReordering bool
	latency        time.Duration // every delivered request waits this long first
	connected      []bool
	group          []int           // servers talk to each other only within a group (Partition)
	cut            map[[2]int]bool // links cut both ways (CutLink), keyed by {min, max}
	gen            []int           // current incarnation of each server's outgoing ends
	servers        []*server       // the live incarnation of each server, or nil
	rng            *rand.Rand
	reported       map[string]bool // type problems already reported
	storm          stormState

	total    atomic.Int64   // RPCs sent
	bytes    atomic.Int64   // argument and reply bytes
	received []atomic.Int64 // RPCs delivered to each server
	peakG    atomic.Int64   // peak live goroutines, sampled on each Call
	baseG    int64          // live goroutines when the network was made

	// onError is told, once per distinct problem, what is wrong with an
	// RPC type or a method name. The cluster fails the test with it.
	onError func(msg string)
	// onDelivered runs after a handler of server id returned.
	onDelivered func(id int, method string)
	// clock, if set, gets the (virtual) time of every call: the
	// watchdog's evidence that virtual time still advances.
	clock *atomic.Int64
}

// server is one incarnation of one peer, as the network dispatches to it.
type server struct {
	id       int
	services map[string]reflect.Value // by the receiver's type name: "Raft" in "Raft.Vote"
	killed   chan struct{}            // closed when this incarnation crashes
}

// NewNetwork makes a network of n servers, all disconnected, reliable,
// with long delays on (as the lab's Raft tests have them).
func NewNetwork(n int, seed uint64) *Network {
	return &Network{
		reliable:   true,
		longDelays: true,
		connected:  make([]bool, n),
		group:      make([]int, n),
		gen:        make([]int, n),
		servers:    make([]*server, n),
		rng:        rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		reported:   map[string]bool{},
		received:   make([]atomic.Int64, n),
		baseG:      int64(runtime.NumGoroutine()),
	}
}

// intn returns a random number in [0, n) from the network's one PRNG.
func (net *Network) intn(n int) int {
	net.mu.Lock()
	defer net.mu.Unlock()
	return net.rng.IntN(n)
}

// SetReliable turns loss and short delays off (true) or on (false).
func (net *Network) SetReliable(yes bool) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.reliable = yes
}

// SetLongReordering delays two replies in three by 200–2200 ms.
func (net *Network) SetLongReordering(yes bool) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.longReordering = yes
}

// SetLongDelays makes calls to an unreachable peer fail after up to 7 s
// (true) or 100 ms (false).
func (net *Network) SetLongDelays(yes bool) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.longDelays = yes
}

// SetLatency makes every delivered request wait d before its handler
// runs: in virtual time, where nothing else takes time, it is what keeps
// a client's operation from taking no time at all.
func (net *Network) SetLatency(d time.Duration) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.latency = d
}

// Partition connects the servers of each group to each other and to no
// one else; servers in no group are disconnected. Partition with one
// group of every server heals the network.
func (net *Network) Partition(groups ...[]int) {
	net.mu.Lock()
	defer net.mu.Unlock()
	for i := range net.connected {
		net.connected[i] = false
	}
	for g, members := range groups {
		for _, i := range members {
			net.connected[i] = true
			net.group[i] = g
		}
	}
}

// Connect lets server i talk to every other connected server again.
func (net *Network) Connect(i int) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.connected[i] = true
}

// Disconnect cuts server i off from all others, both ways.
func (net *Network) Disconnect(i int) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.connected[i] = false
}

// CutLink cuts the link between servers a and b, both ways, and nothing
// else: each still talks to every other server it is connected to.
func (net *Network) CutLink(a, b int) {
	net.mu.Lock()
	defer net.mu.Unlock()
	if net.cut == nil {
		net.cut = map[[2]int]bool{}
	}
	net.cut[link(a, b)] = true
}

// HealLinks mends every link CutLink cut.
func (net *Network) HealLinks() {
	net.mu.Lock()
	defer net.mu.Unlock()
	clear(net.cut)
}

func link(a, b int) [2]int { return [2]int{min(a, b), max(a, b)} }

// IsConnected reports whether server i is connected.
func (net *Network) IsConnected(i int) bool {
	net.mu.Lock()
	defer net.mu.Unlock()
	return net.connected[i]
}

// Ends makes a fresh set of sending ends for a new incarnation of server
// from: ends[j] calls server j. The ends of earlier incarnations stop
// working, so a killed server can no longer reach anyone.
func (net *Network) Ends(from int) []raftapi.Peer {
	net.mu.Lock()
	net.gen[from]++
	g := net.gen[from]
	net.mu.Unlock()
	ends := make([]raftapi.Peer, len(net.servers))
	for j := range ends {
		ends[j] = &end{net: net, from: from, to: j, gen: g}
	}
	return ends
}

// AddServer makes rcvrs the live incarnation of server id: a call of
// "T.M" to id dispatches to method M of the receiver whose type is named
// T (a Raft and the service above it share one server).
func (net *Network) AddServer(id int, rcvrs ...any) {
	s := &server{id: id, services: map[string]reflect.Value{}, killed: make(chan struct{})}
	for _, r := range rcvrs {
		v := reflect.ValueOf(r)
		s.services[reflect.Indirect(v).Type().Name()] = v
	}
	net.mu.Lock()
	defer net.mu.Unlock()
	net.servers[id] = s
}

// DeleteServer removes server id's live incarnation and disables its
// outgoing ends: calls in flight to it fail, and it never replies again.
func (net *Network) DeleteServer(id int) {
	net.mu.Lock()
	defer net.mu.Unlock()
	net.gen[id]++
	if s := net.servers[id]; s != nil {
		close(s.killed)
		net.servers[id] = nil
	}
}

// RPCCount is the number of RPCs delivered to server id.
func (net *Network) RPCCount(id int) int { return int(net.received[id].Load()) }

// TotalRPCs is the number of RPCs sent by all servers.
func (net *Network) TotalRPCs() int { return int(net.total.Load()) }

// TotalBytes is the number of argument and reply bytes sent.
func (net *Network) TotalBytes() int64 { return net.bytes.Load() }

// PeakGoroutines is the highest number of live goroutines seen at a Call,
// less those that were alive when the network was made: the scenario's,
// not those an earlier scenario leaked or the test binary runs.
func (net *Network) PeakGoroutines() int { return int(max(0, net.peakG.Load()-net.baseG)) }

// report tells onError about msg, once per distinct msg.
func (net *Network) report(msg string) {
	net.mu.Lock()
	seen := net.reported[msg]
	net.reported[msg] = true
	f := net.onError
	net.mu.Unlock()
	if !seen && f != nil {
		f(msg)
	}
}

// Client is a client of the servers (a clerk): its ends reach the
// servers it is connected to, whatever their partition, as long as they
// are up.
type Client struct {
	net   *Network
	mu    sync.Mutex
	reach []bool
}

// MakeClient returns a new client, connected to every server.
func (net *Network) MakeClient() *Client {
	cl := &Client{net: net, reach: make([]bool, len(net.servers))}
	cl.ConnectTo(nil)
	return cl
}

// Ends are the client's sending ends: ends[j] calls server j.
func (cl *Client) Ends() []raftapi.Peer {
	ends := make([]raftapi.Peer, len(cl.reach))
	for j := range ends {
		ends[j] = &end{net: cl.net, client: cl, to: j}
	}
	return ends
}

// ConnectTo connects the client to the servers listed, and to no other;
// nil means every server.
func (cl *Client) ConnectTo(servers []int) {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	for j := range cl.reach {
		cl.reach[j] = servers == nil
	}
	for _, j := range servers {
		cl.reach[j] = true
	}
}

func (cl *Client) reaches(j int) bool {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.reach[j]
}

// end is the sending end of server from's incarnation gen towards to, or
// of a client towards to.
type end struct {
	net      *Network
	client   *Client // nil for a server's end
	from, to int
	gen      int
}

// usable reports whether e can reach srv now, with net.mu held: srv is
// still to's live incarnation, and either e is a client's end connected to
// it, or e's incarnation is live and both servers are connected, in one
// group.
func (e *end) usable(srv *server) bool {
	net := e.net
	if srv == nil || net.servers[e.to] != srv {
		return false
	}
	if e.client != nil {
		return e.client.reaches(e.to)
	}
	return e.gen == net.gen[e.from] && net.connected[e.from] && net.connected[e.to] &&
		net.group[e.from] == net.group[e.to] && !net.cut[link(e.from, e.to)]
}

// Call sends method(args) to the peer and waits for its reply. It returns
// false when the request or the reply is lost or the peer is down.
func (e *end) Call(method string, args any, reply any) bool {
	net := e.net
	if g := int64(runtime.NumGoroutine()); g > net.peakG.Load() {
		net.peakG.Store(g) // a racy max is fine for a report
	}
	net.total.Add(1)
	if net.clock != nil {
		net.clock.Store(time.Now().UnixNano())
	}
	for _, v := range []any{args, reply} {
		if msg := unexportedField(reflect.TypeOf(v)); msg != "" {
			net.report(msg)
		}
	}
	req, err := encode(args)
	if err != nil {
		net.report(fmt.Sprintf("Call(%q): %v", method, err))
		return false
	}
	net.bytes.Add(int64(len(req)))

	net.mu.Lock()
	storming, storm := net.storm.noteCall(e, method, time.Now())
	srv := net.servers[e.to]
	ok := e.usable(srv)
	reliable, longReordering, longDelays, latency := net.reliable, net.longReordering, net.longDelays, net.latency
	net.mu.Unlock()
	if storm != "" {
		net.report(storm)
	}
	if storming {
		time.Sleep(stormWindow) // let virtual time move, so the scenario can end
		return false
	}

	if !ok {
		// As if the request timed out: the caller learns nothing, late.
		max := 100
		if longDelays {
			max = 7000
		}
		time.Sleep(time.Duration(net.intn(max)) * time.Millisecond)
		return false
	}
	if !reliable {
		time.Sleep(time.Duration(net.intn(27)) * time.Millisecond)
		if net.intn(1000) < 100 {
			return false // request lost
		}
	}
	if latency > 0 {
		time.Sleep(latency)
	}
	rep, ok := e.dispatch(srv, method, req)
	if !ok {
		return false
	}
	net.mu.Lock()
	ok = e.usable(srv)
	net.mu.Unlock()
	if !ok {
		return false // a killed or cut-off server never replies
	}
	if !reliable && net.intn(1000) < 100 {
		return false // reply lost
	}
	if longReordering && net.intn(900) < 600 {
		time.Sleep(time.Duration(200+net.intn(1+net.intn(2000))) * time.Millisecond)
	}
	net.bytes.Add(int64(len(rep)))
	if err := decode(rep, reply); err != nil {
		net.report(fmt.Sprintf("Call(%q) reply: %v", method, err))
		return false
	}
	return true
}

// dispatch runs the handler for method on srv with a private copy of the
// arguments, and returns the encoded reply. It gives up (false) as soon as
// srv is killed, without waiting for a handler that may never return.
func (e *end) dispatch(srv *server, method string, req []byte) ([]byte, bool) {
	net := e.net
	service, name, _ := strings.Cut(method, ".")
	rcvr, found := srv.services[service]
	if !found {
		net.report(fmt.Sprintf("Call(%q): server %d has no service %q (it has %v)", method, e.to, service, slices.Sorted(maps.Keys(srv.services))))
		return nil, false
	}
	m := rcvr.MethodByName(name)
	if !m.IsValid() || !isHandler(m.Type()) {
		net.report(fmt.Sprintf("Call(%q): %s has no RPC handler %s (want a method %s(args *A, reply *R) with no results)", method, rcvr.Type(), method, name))
		return nil, false
	}
	net.received[e.to].Add(1)
	argsT, replyT := m.Type().In(0), m.Type().In(1)
	args := reflect.New(argsT.Elem())
	if err := decode(req, args.Interface()); err != nil {
		net.report(fmt.Sprintf("Call(%q): %v", method, err))
		return nil, false
	}
	reply := reflect.New(replyT.Elem())
	done := make(chan struct{})
	go func() {
		m.Call([]reflect.Value{args, reply})
		close(done)
	}()
	select {
	case <-done:
	case <-srv.killed:
		return nil, false
	}
	if f := net.onDelivered; f != nil {
		f(e.to, method)
	}
	rep, err := encode(reply.Interface())
	if err != nil {
		net.report(fmt.Sprintf("Call(%q) reply: %v", method, err))
		return nil, false
	}
	return rep, true
}

// isHandler reports whether t is the type of an RPC handler method value:
// func(*A, *R) with no results.
func isHandler(t reflect.Type) bool {
	return t.NumIn() == 2 && t.NumOut() == 0 &&
		t.In(0).Kind() == reflect.Pointer && t.In(1).Kind() == reflect.Pointer
}
