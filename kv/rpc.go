// Package kv is a linearizable key/value service over any raftapi.Raft:
// the lab's kvraft. A Server applies Get, Put and Append in log order,
// reads included, so every operation takes effect at one point between
// its call and its return; a Clerk finds the leader, retries, and tags each
// request with its client id and sequence number, so a retried Put or
// Append takes effect once.
//
// kv imports raftapi only: any implementation with the lab's API runs
// under it.
package kv

import (
	"encoding/gob"
	"strings"
)

// Err is the outcome of an RPC to a Server.
type Err string

const (
	OK             Err = "OK"
	ErrWrongLeader Err = "ErrWrongLeader" // not the leader, or lost leadership before the request committed: try another server
	ErrKilled      Err = "ErrKilled"      // the server is shutting down
	ErrBadRequest  Err = "ErrBadRequest"  // the request can never succeed (e.g. an unknown Kind): do not retry; the server appends why
)

// badRequest says whether e refuses the request for good.
func (e Err) badRequest() bool { return strings.HasPrefix(string(e), string(ErrBadRequest)) }

// Kind is what an operation does.
type Kind uint8

const (
	Get Kind = iota + 1
	Put
	Append
)

func (k Kind) String() string {
	switch k {
	case Get:
		return "Get"
	case Put:
		return "Put"
	case Append:
		return "Append"
	}
	return "Kind(?)"
}

// Op is one client operation, as it travels in the RPC and in the Raft
// log. (ClientID, Seq) names it: a client has at most one operation
// outstanding, and numbers them 1, 2, 3...
type Op struct {
	Kind     Kind
	Key      string
	Value    string // Put and Append
	ClientID int64
	Seq      int64
}

// Args are the arguments of Server.Do.
type Args struct{ Op Op }

// Reply is Server.Do's reply: Value is what a Get read.
type Reply struct {
	Err   Err
	Value string
}

func init() { gob.Register(Op{}) }
