package raft

import (
	"errors"
	"fmt"
	"slices"
)

// Node is the exported contract of the core, for callers that drive it
// themselves: a deterministic simulator, a driver of one's own. It is the
// core (Figure 2 as a single-threaded state machine) with its output
// handed out as data, in the shape of etcd-io/raft's Ready/Advance:
//
//	st, err := raft.DecodeState(state, id, peers) // what was last saved
//	n, err := raft.NewNode(cfg, st, snapshot)
//	var enc raft.StateEncoder // one per Node
//	for {
//		// one input: n.Step(m), n.Tick(), n.Propose(cmd), n.Snapshot(i, data), n.Unreachable(p)
//		if n.HasReady() {
//			out := n.Ready()
//			if out.Err != nil {
//				stop(out.Err)              // a bug of the core: send nothing
//			}
//			if out.Persist != nil {
//				b, err := enc.Encode(out.Persist)
//				save(b, out.Snapshot)  // 1. persist (stable storage)
//			}
//			send(out.Messages...)      // 2. only then send
//			apply(out.Apply...)        // committed: apply in order
//			n.Advance()                // 3. say it was done
//		}
//	}
//
// The contract:
//   - Persist before send. Persist (with Snapshot) must be on stable
//     storage before any of Messages leaves: a vote or an acknowledgement
//     must never outlive a crash that forgets it (Figure 2: "updated on
//     stable storage before responding to RPCs"). A crash may come at any
//     point: after saving and before sending is allowed (the messages are
//     then never sent), the other way round is not.
//   - Ready, then Advance, then the next input. Between Ready and Advance
//     the Node takes no input: Step, Tick and Snapshot return
//     ErrNotAdvanced and Propose refuses. Ready checks the boundary
//     before anything leaves: every message of the Output must depend
//     only on the Output's Persist (or what was persisted before); if not,
//     Output.Err wraps ErrUnpersisted (and Advance returns it), and the
//     caller must send nothing. With -tags invariants the core's hooks also
//     report each save (Advance of an Output with Persist) and each send
//     to the invariants Observer there.
//   - Apply holds what the service has not yet seen, in order: at most one
//     snapshot an InstallSnapshot brought (first), then committed entries.
//     It is handed out once: a Node does not know whether the service took
//     it, only that the caller said so (Advance).
//   - No input panics: a malformed message is refused with an error and
//     changes nothing, corrupt persisted state is an error of DecodeState
//     and NewNode, a command gob cannot encode is refused by Propose.
//
// The Node does no encoding: it hands out what must be saved as data
// (PersistentState) and what must be applied as Apply values; the caller
// encodes the one (EncodeState, StateEncoder; DecodeState reads it back)
// and converts the other (the driver makes the lab's ApplyMsgs of them).
//
// A Node is not safe for concurrent use; it has no goroutines, no clock
// and no I/O, so a seeded Config.Rand replays a run exactly.
type Node struct {
	c   *node
	out *Output // the Output handed out by Ready and not yet advanced
	// dur is what the messages of out may depend on: the state out
	// persisted, or what was persisted before.
	dur durable
	// probe tells whether gob can encode a command (Propose).
	probe encodable
}

// Output is what a Node hands out for its caller to carry out, in this
// order: save Persist and Snapshot, send Messages, apply Apply; then
// Advance.
type Output struct {
	// Persist is the persistent state to save (currentTerm, votedFor, the
	// log and the snapshot's base; encode it with a StateEncoder or
	// EncodeState), or nil if it did not change since the last Output. Its
	// Entries are the Node's log, valid until the next input.
	Persist *PersistentState
	// Snapshot is the service's snapshot through the log's base, to be
	// saved atomically with Persist (as raftapi.Persister.Save does); it
	// is meaningful only when Persist is not nil.
	Snapshot []byte
	// Messages are to be sent once Persist is saved.
	Messages []Message
	// Apply is what the service must apply, in order.
	Apply []Apply
	// Err, if not nil, wraps ErrUnpersisted: a message depends on state
	// this Output does not persist (a bug of the core). Send nothing; the
	// node cannot go on. Advance returns the same error.
	Err error
}

// Apply is one thing a Node hands its service to apply (Output.Apply):
// a committed command, or a snapshot that an InstallSnapshot brought.
type Apply struct {
	// Index is the command's log index, or, for a snapshot, the index of
	// the last entry it covers.
	Index int
	// Term is the term of the entry at Index.
	Term int
	// Command is the committed command (IsSnapshot false).
	Command any
	// Snapshot is the service's state through Index (IsSnapshot true).
	Snapshot []byte
	// IsSnapshot says this is a snapshot, not a command.
	IsSnapshot bool
}

// Status is a summary of a Node's state, for logs and checks.
type Status struct {
	ID          int
	Term        int
	VotedFor    int // None if no vote in Term
	Leader      bool
	Candidate   bool
	CommitIndex int
	LastApplied int
	LastIndex   int
	LastTerm    int
	Base        int // the snapshot's last included index
}

// Errors of the Node contract.
var (
	// ErrNotAdvanced: an input came between Ready and Advance.
	ErrNotAdvanced = errors.New("raft: input between Ready and Advance")
	// ErrNoReady: Advance without an Output outstanding.
	ErrNoReady = errors.New("raft: Advance without Ready")
	// ErrUnpersisted: a message of an Output depends on state the Output
	// did not persist (persist-before-send broken).
	ErrUnpersisted = errors.New("raft: message depends on unpersisted state")
	// ErrConfig: a Config NewNode cannot run.
	ErrConfig = errors.New("raft: bad Config")
)

// InvariantsOn says whether this build reports every transition to the
// invariants Observer (built with -tags invariants).
const InvariantsOn = invariantsOn

// NewNode makes a Node from its Config and the persisted state and
// snapshot as last saved from an Output (st as DecodeState reads it back;
// both nil for a fresh node). NewNode keeps a copy of st's entries. Built
// with -tags invariants, it reports every transition to cfg.Observer.
// A state no correct node could have saved is an error wrapping
// ErrCorruptState, a Config it cannot run one wrapping ErrConfig.
func NewNode(cfg Config, st *PersistentState, snapshot []byte) (*Node, error) {
	switch {
	case cfg.Peers < 1 || cfg.Peers > MaxTermOrIndex:
		return nil, fmt.Errorf("%w: Peers %d", ErrConfig, cfg.Peers)
	case cfg.ID < 0 || cfg.ID >= cfg.Peers:
		return nil, fmt.Errorf("%w: ID %d not in [0, %d)", ErrConfig, cfg.ID, cfg.Peers)
	case cfg.ElectionTicks < 1 || cfg.HeartbeatTicks < 1:
		return nil, fmt.Errorf("%w: ElectionTicks %d, HeartbeatTicks %d (both must be at least 1)", ErrConfig, cfg.ElectionTicks, cfg.HeartbeatTicks)
	case cfg.Rand == nil:
		return nil, fmt.Errorf("%w: Rand is nil", ErrConfig)
	case !observerOK(cfg.Observer):
		return nil, fmt.Errorf("%w: Observer is a %T, not an *invariants.Observer", ErrConfig, cfg.Observer)
	}
	s := PersistentState{VotedFor: None}
	if st != nil {
		if err := st.check(cfg.ID, cfg.Peers); err != nil {
			return nil, err
		}
		s = *st
		s.Entries = slices.Clone(st.Entries)
	}
	if s.Base == 0 && len(snapshot) > 0 {
		// A snapshot with no base would never be handed to the service.
		return nil, fmt.Errorf("raft: n%d: %w: a snapshot of %d bytes with state whose base is 0", cfg.ID, ErrCorruptState, len(snapshot))
	}
	return &Node{c: newNode(cfg, s, snapshot)}, nil
}

// Step handles one message addressed to this node: a request (its reply
// comes out in the next Output) or a reply. A malformed message is
// refused with an error and changes nothing.
func (n *Node) Step(m Message) error {
	if n.out != nil {
		return ErrNotAdvanced
	}
	return n.c.Step(m)
}

// Tick advances the node's clocks by one tick: elections (§5.2) and
// heartbeats are counted in ticks.
func (n *Node) Tick() error {
	if n.out != nil {
		return ErrNotAdvanced
	}
	n.c.Tick()
	return nil
}

// Propose appends command to the log if this node leads (the lab's
// Start), and returns the index it will have if it commits, the current
// term and true; false if the node does not lead, if an Output is
// outstanding, or if gob cannot encode the command (it could never be
// persisted).
func (n *Node) Propose(command any) (index, term int, ok bool) {
	if n.out != nil || n.c.role != leader {
		return -1, n.c.currentTerm, false
	}
	if !n.probe.ok(command) {
		return -1, n.c.currentTerm, false
	}
	return n.c.Propose(command)
}

// Snapshot says the service's snapshot covers every entry through index,
// which was handed out in an Output: the log is compacted (§7).
func (n *Node) Snapshot(index int, snapshot []byte) error {
	if n.out != nil {
		return ErrNotAdvanced
	}
	return n.c.Snapshot(index, snapshot)
}

// Unreachable says that a request this node sent to peer got no reply
// and never will (the lab's Call returned false). It only tunes when the
// next request to peer goes (docs/guide.md, F2–F3); a caller that never
// calls it gets a node that, to a peer it presumes down, sends one
// request per probe interval.
func (n *Node) Unreachable(peer int) {
	if n.out == nil {
		n.c.unreachable(peer)
	}
}

// HasReady says whether Ready would hand out anything.
func (n *Node) HasReady() bool {
	return n.out != nil || n.c.dirty || len(n.c.msgs) > 0 || n.c.hasApply()
}

// Ready hands out the output of the inputs since the last Advance. Until
// Advance, it hands out the same Output again.
func (n *Node) Ready() Output {
	if n.out != nil {
		return *n.out
	}
	rd := n.c.Ready()
	out := Output{Messages: rd.Messages}
	n.dur = n.c.durable
	if rd.MustPersist {
		out.Persist, out.Snapshot = n.c.toPersist(), n.c.snapshot
		n.dur = n.c.handed
	}
	// At most two rounds: a snapshot alone, then the entries after it.
	for msgs := n.c.nextApply(); len(msgs) > 0; msgs = n.c.nextApply() {
		out.Apply = append(out.Apply, msgs...)
	}
	// Persist-before-send, checked before anything leaves: every message
	// may depend only on what this Output persists, or what was before.
	if s := n.c.summary(); len(out.Messages) > 0 && n.dur != s {
		out.Err = fmt.Errorf("%w: n%d would send %v with term %d vote %d log %d/%d in memory, but term %d vote %d log %d/%d persisted",
			ErrUnpersisted, n.c.id, &out.Messages[0], s.term, s.votedFor, s.lastIndex, s.lastTerm,
			n.dur.term, n.dur.votedFor, n.dur.lastIndex, n.dur.lastTerm)
	}
	n.out = &out
	return out
}

// Advance says the Output of the last Ready was carried out: Persist saved,
// then Messages sent, and Apply handed to the service. It returns
// ErrNoReady without one, and an error wrapping ErrUnpersisted if a
// message depended on state the Output did not persist.
func (n *Node) Advance() error {
	out := n.out
	if out == nil {
		return ErrNoReady
	}
	n.out = nil
	if out.Persist != nil {
		n.c.persisted()
	}
	for i := range out.Messages {
		n.c.sent(&out.Messages[i])
	}
	if out.Err != nil {
		return out.Err
	}
	return nil
}

// Status summarises the node's state.
func (n *Node) Status() Status {
	c := n.c
	return Status{ID: c.id, Term: c.currentTerm, VotedFor: c.votedFor, Leader: c.role == leader,
		Candidate: c.role == candidate, CommitIndex: c.commitIndex, LastApplied: c.lastApplied,
		LastIndex: c.log.lastIndex(), LastTerm: c.log.lastTerm(), Base: c.log.base}
}
