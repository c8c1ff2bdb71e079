package kv

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// retryPause is how long a clerk waits after every server refused or
// failed to answer, before it tries them all again (an election takes
// longer than one round of calls).
const retryPause = 50 * time.Millisecond

// Clerk is a client of the service. It has one operation outstanding at
// a time, remembers which server led last, and retries until its
// operation is applied. It is not safe for concurrent use: make one Clerk
// per client.
type Clerk struct {
	servers  []raftapi.Peer
	clientID int64
	seq      int64
	leader   int // the server to try first
}

// MakeClerk returns a clerk of the service whose servers are reached
// through servers, with a fresh random client id.
func MakeClerk(servers []raftapi.Peer) *Clerk {
	return &Clerk{servers: servers, clientID: rand.Int64(), leader: rand.IntN(len(servers))}
}

// Get returns the value of key, "" if it was never written. It retries
// until it succeeds.
func (ck *Clerk) Get(key string) string {
	v, _ := ck.Do(context.Background(), Op{Kind: Get, Key: key})
	return v
}

// Put sets key to value. It retries until it succeeds.
func (ck *Clerk) Put(key, value string) {
	ck.Do(context.Background(), Op{Kind: Put, Key: key, Value: value})
}

// Append appends value to key's value. It retries until it succeeds.
func (ck *Clerk) Append(key, value string) {
	ck.Do(context.Background(), Op{Kind: Append, Key: key, Value: value})
}

// Do runs op (its ClientID and Seq are the clerk's to set) until a server
// applied it, and returns what a Get read. It gives up when ctx is done,
// with ctx's error: then op may or may not have taken effect; and when a
// server answers ErrBadRequest (op can never succeed, e.g. an unknown
// Kind), with an error that says why: then op had no effect.
func (ck *Clerk) Do(ctx context.Context, op Op) (string, error) {
	ck.seq++
	op.ClientID, op.Seq = ck.clientID, ck.seq
	args := Args{Op: op}
	for {
		for range ck.servers {
			if err := ctx.Err(); err != nil {
				return "", err
			}
			var reply Reply
			ok := ck.servers[ck.leader].Call("Server.Do", &args, &reply)
			switch {
			case ok && reply.Err == OK:
				return reply.Value, nil
			case ok && reply.Err.badRequest():
				return "", fmt.Errorf("kv: %v %q: %s", op.Kind, op.Key, reply.Err)
			}
			ck.leader = (ck.leader + 1) % len(ck.servers)
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(retryPause):
		}
	}
}
