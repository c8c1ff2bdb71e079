package tests

import (
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

type EchoArgs struct {
	X    int
	Data []int
}

type EchoReply struct {
	X    int
	Data []int
}

type BadReply struct {
	Term int
	vote bool // planted: gob drops it
}

// Echo is a tiny RPC service for the network's own tests.
type Echo struct {
	mu    sync.Mutex
	calls int
}

func (e *Echo) Echo(args *EchoArgs, reply *EchoReply) {
	e.mu.Lock()
	e.calls++
	e.mu.Unlock()
	reply.X = args.X
	reply.Data = append([]int(nil), args.Data...)
	args.Data[0] = -1 // the caller must not see this
}

func (e *Echo) Vote(args *EchoArgs, reply *BadReply) { reply.Term, reply.vote = args.X, true }

// twoServers is a network of two connected servers, both Echo services,
// and the errors it reports.
func twoServers(seed uint64) (*Network, *[]string) {
	net := NewNetwork(2, seed)
	var errs []string
	var mu sync.Mutex
	net.onError = func(msg string) { mu.Lock(); errs = append(errs, msg); mu.Unlock() }
	for i := range 2 {
		net.AddServer(i, &Echo{})
		net.Connect(i)
	}
	return net, &errs
}

func TestNetworkCopiesArgumentsAndReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, errs := twoServers(1)
		end := net.Ends(0)[1]
		args := EchoArgs{X: 7, Data: []int{1, 2}}
		var reply EchoReply
		require.True(t, end.Call("Echo.Echo", &args, &reply))
		require.Equal(t, 7, reply.X)
		require.Equal(t, []int{1, 2}, reply.Data)
		require.Equal(t, []int{1, 2}, args.Data, "the handler's change to its copy is not seen by the caller")
		reply.Data[1] = 99
		require.Equal(t, 2, args.Data[1], "the reply shares no memory with the arguments")
		require.Equal(t, 1, net.RPCCount(1))
		require.Equal(t, 1, net.TotalRPCs())
		require.Positive(t, net.TotalBytes())
		require.Empty(t, *errs)
	})
}

func TestNetworkReportsUnexportedFieldOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, errs := twoServers(1)
		end := net.Ends(0)[1]
		for range 3 {
			var reply BadReply
			end.Call("Echo.Vote", &EchoArgs{X: 3, Data: []int{0}}, &reply)
			require.False(t, reply.vote, "gob dropped the unexported field")
		}
		require.Len(t, *errs, 1, "one report per problem: %q", *errs)
		msg := (*errs)[0]
		for _, want := range []string{"tests.BadReply", "unexported field vote", "capitalize"} {
			require.Contains(t, msg, want)
		}
	})
}

func TestNetworkReportsUnknownMethod(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, errs := twoServers(1)
		var reply EchoReply
		require.False(t, net.Ends(0)[1].Call("Echo.Nope", &EchoArgs{}, &reply))
		require.Len(t, *errs, 1)
		require.Contains(t, (*errs)[0], `has no RPC handler Echo.Nope`)
	})
}

func TestNetworkDisconnectedCallFailsLate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, _ := twoServers(1)
		net.Disconnect(1)
		end := net.Ends(0)[1]
		var maxWait time.Duration
		for range 50 {
			t0 := time.Now()
			var reply EchoReply
			require.False(t, end.Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply))
			maxWait = max(maxWait, time.Since(t0))
		}
		// Long delays: up to 7 s, so a leader that calls synchronously stalls.
		require.Less(t, maxWait, 7*time.Second)
		require.Greater(t, maxWait, time.Second)
		require.Equal(t, 0, net.RPCCount(1), "nothing was delivered")
	})
}

func TestNetworkDeletedServerNeverReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, _ := twoServers(1)
		old := net.Ends(0)[1]
		net.DeleteServer(1)
		var reply EchoReply
		require.False(t, old.Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply))
		// A new incarnation of server 0 gets new ends; the old ones are dead.
		fresh := net.Ends(0)
		net.AddServer(1, &Echo{})
		require.True(t, fresh[1].Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply))
		require.False(t, old.Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply), "a killed incarnation's ends stay dead")
	})
}

func TestNetworkUnreliableLosesAboutOneInFive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, _ := twoServers(42)
		net.SetReliable(false)
		end := net.Ends(0)[1]
		const n = 2000
		failed := 0
		for range n {
			var reply EchoReply
			if !end.Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply) {
				failed++
			}
		}
		// Request and reply each lost 10% of the time: 1 - 0.9² = 19%.
		require.InDelta(t, 0.19, float64(failed)/n, 0.04, "%d of %d lost", failed, n)
		// Only requests that were not lost were delivered.
		require.InDelta(t, 0.9, float64(net.RPCCount(1))/n, 0.04)
	})
}

func TestNetworkLongReorderingDelaysReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net, _ := twoServers(7)
		net.SetLongReordering(true)
		end := net.Ends(0)[1]
		delayed := 0
		const n = 300
		for range n {
			t0 := time.Now()
			var reply EchoReply
			require.True(t, end.Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply))
			d := time.Since(t0)
			require.Less(t, d, 2201*time.Millisecond)
			if d >= 200*time.Millisecond {
				delayed++
			}
		}
		require.InDelta(t, 2.0/3, float64(delayed)/n, 0.1, "%d of %d delayed", delayed, n)
	})
}

func TestFindUnexportedNamesThePath(t *testing.T) {
	type inner struct{ secret int }
	type Outer struct{ In []inner }
	msg := unexportedField(typeOf[Outer]())
	require.True(t, strings.Contains(msg, "field secret") && strings.Contains(msg, ".In"), msg)
	require.Empty(t, unexportedField(typeOf[EchoArgs]()))
}

func typeOf[T any]() reflect.Type { return reflect.TypeFor[T]() }

// CutLink cuts one link both ways and nothing else; HealLinks mends it.
func TestNetworkCutLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		net := NewNetwork(3, 1)
		for i := range 3 {
			net.AddServer(i, &Echo{})
			net.Connect(i)
		}
		call := func(from, to int) bool {
			var reply EchoReply
			return net.Ends(from)[to].Call("Echo.Echo", &EchoArgs{Data: []int{0}}, &reply)
		}
		net.CutLink(2, 0)
		require.False(t, call(0, 2))
		require.False(t, call(2, 0))
		require.True(t, call(0, 1))
		require.True(t, call(1, 2))
		require.True(t, net.IsConnected(0), "a cut link does not disconnect the server")
		net.HealLinks()
		require.True(t, call(0, 2))
		require.True(t, call(2, 0))
	})
}
