// Package labrpc stands in for the lab's RPC library, only as far as the
// Raft in raft1 uses it: raftspec check replaces it with its own network.
package labrpc

// ClientEnd is the sending end of a connection to one peer.
type ClientEnd struct{}

// Call sends an RPC and waits for the reply. This stand-in has no
// network: every call fails, as to a peer that is down.
func (e *ClientEnd) Call(svcMeth string, args interface{}, reply interface{}) bool {
	return false
}
