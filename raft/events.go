package raft

// evKind says which kind of transition the core reports to its hooks, and
// with it which transcript line describes it.
type evKind int

const (
	evStart         evKind = iota // made, fresh or from persisted state
	evReceive                     // a request handled, its reply produced
	evReply                       // a reply handled
	evDropStale                   // a reply to a request of an older term dropped
	evHeartbeat                   // a tick that sent heartbeats
	evTimeout                     // a tick that started an election
	evPropose                     // a command appended by the leader
	evApply                       // entries handed to the service
	evApplySnapshot               // a snapshot handed to the service
	evCompact                     // the service's snapshot trimmed the log
	evSend                        // a message left the node
	evPersist                     // the state was saved
	numEvKinds
)
