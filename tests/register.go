package tests

import (
	"encoding/gob"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/raftspec/raftspec/linearizability"
)

// The register check runs directly on Raft, with no service in between:
// clients read and write one register through Start and what the
// servers apply, while servers are cut off, partitioned, crashed and
// restarted; the history is checked against the register model.

// RegisterOp is a client's command in the register scenario.
type RegisterOp struct {
	Client, Seq int
	Write       bool
	Value       string // what a write writes
}

func init() { gob.Register(RegisterOp{}) }

// registerCommit bounds how long a client waits to see its command
// applied; after that its outcome is unknown.
const registerCommit = 2 * time.Second

// RegisterScenario is the register check, as a scenario of its own: it
// is not one of the lab's tests, so Scenarios does not list it.
var RegisterScenario = Scenario{Name: "LinearizableRegister", Part: "3C", Servers: 5, Unreliable: true, Run: linearizableRegister}

func linearizableRegister(c *Cluster) {
	rec := c.History("register", linearizability.RegisterModel())
	var stop atomic.Bool
	var wg sync.WaitGroup
	const clients = 5
	for me := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for seq := 0; !stop.Load(); seq++ {
				c.registerOp(rec, me, seq)
			}
		}()
	}
	for range 20 {
		switch r := c.Rand(1000); {
		case r < 300:
			var a, b []int
			for i := range c.n {
				if c.Rand(2) == 0 {
					a = append(a, i)
				} else {
					b = append(b, i)
				}
			}
			c.net.Partition(a, b)
			rec.Fault(linearizability.Partition, fmt.Sprint(a, b))
		case r < 500:
			if i := c.Rand(c.n); c.Raft(i) != nil {
				c.Crash(i)
				rec.Fault(linearizability.Crash, fmt.Sprint("server ", i))
			}
		default:
			i := c.Rand(c.n)
			if c.Raft(i) == nil {
				c.Restart(i)
				rec.Fault(linearizability.Restart, fmt.Sprint("server ", i))
			}
			c.Connect(i)
		}
		time.Sleep(ElectionTimeout * 7 / 10)
	}
	for i := range c.n {
		if c.Raft(i) == nil {
			c.Restart(i)
		}
	}
	c.net.Partition(c.All())
	rec.Fault(linearizability.Heal, "every server up and connected")
	stop.Store(true)
	wg.Wait()
	c.stopIfFailed()
	// Liveness: once healed, a write commits.
	c.One(RegisterOp{Client: clients, Seq: 0, Write: true, Value: "last"}, c.n, true)
}

// registerOp runs one read or write of client me: Start on the servers
// in turn until one accepts, then wait to see the index applied. The
// command there is ours (the operation took effect there), or another's
// (ours never will: an entry never changes index), or nothing shows up
// in time (the outcome is unknown).
func (c *Cluster) registerOp(rec *linearizability.Recorder, me, seq int) {
	op := RegisterOp{Client: me, Seq: seq, Write: c.Rand(2) == 0, Value: fmt.Sprintf("%d.%d", me, seq)}
	in := linearizability.RegisterInput{Op: linearizability.Read}
	if op.Write {
		in = linearizability.RegisterInput{Op: linearizability.Write, Value: op.Value}
	}
	call := rec.Call(me, in)
	index := -1
	for i := range c.n {
		if rf := c.Raft(i); rf != nil {
			if idx, term, ok := rf.Start(op); ok {
				c.obs.claimsLeader(i, term)
				index = idx
				break
			}
		}
	}
	if index < 0 {
		call.Fail()
		time.Sleep(time.Duration(20+c.Rand(30)) * time.Millisecond)
		return
	}
	deadline := time.Now().Add(registerCommit)
	for time.Now().Before(deadline) {
		if cmd, value, ok := c.registerAt(index); ok {
			if cmd != op {
				call.Fail()
			} else {
				call.Return(linearizability.RegisterOutput{Value: value})
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	call.Timeout()
}

// registerAt returns the command some server applied at index and the
// register's value just before it, if a server has applied it.
func (c *Cluster) registerAt(index int) (RegisterOp, string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.n {
		cmd, ok := c.logs[i][index]
		if !ok {
			continue
		}
		// Applies come in order and without gaps (the apply checker
		// fails the test otherwise), so this log holds 1..index.
		value := ""
		for j := 1; j < index; j++ {
			if w, ok := c.logs[i][j].(RegisterOp); ok && w.Write {
				value = w.Value
			}
		}
		op, _ := cmd.(RegisterOp)
		return op, value, true
	}
	return RegisterOp{}, "", false
}
