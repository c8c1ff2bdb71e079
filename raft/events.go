package raft

// evKind says which kind of transition the core reports to its hooks.
type evKind int

const (
	evStart   evKind = iota // made, fresh or from persisted state
	evReceive               // a request handled, its reply produced
	evReply                 // a reply handled
	evTick                  // a tick that changed state
	evPropose               // a command appended by the leader
	evApply                 // entries or a snapshot handed to the service
	evCompact               // the service's snapshot trimmed the log
	evSend                  // a message left the node
	evPersist               // the state was saved
)
