package sim

import (
	"encoding/binary"
	"fmt"

	"github.com/raftspec/raftspec/invariants"

	"github.com/raftspec/raftspec/raft"
)

// service is the state machine above one node: it applies what the node
// hands out and checks it. Its state is summarised, not kept: the index
// last applied, a hash chain of every command applied so far (so two
// services agree on index k exactly when their chains at k are equal), and
// the greatest command applied (for the liveness check).
type service struct {
	last   int
	chain  uint64
	maxCmd int
	since  int // commands applied since the last snapshot
	// queue is what the node handed out and the service has not taken
	// yet; busy says an evService is scheduled to take it.
	queue []raft.Apply
	busy  bool
}

// ledger is what every service of a run applied, by index: the first
// command and chain value applied there anywhere (StateMachineSafety).
type ledger struct {
	cmds  []int    // cmds[k]: the command at index k; 0 unknown
	chain []uint64 // chain[k]: the chain through k
}

func link(chain uint64, cmd int) uint64 {
	// FNV-1a over the command's 8 bytes, seeded by the chain so far.
	h := chain ^ 0xcbf29ce484222325
	for i := range 8 {
		h ^= uint64(byte(uint64(cmd) >> (8 * i)))
		h *= 0x100000001b3
	}
	return h
}

func (l *ledger) grow(k int) {
	for len(l.cmds) <= k {
		l.cmds = append(l.cmds, 0)
		l.chain = append(l.chain, 0)
	}
}

// apply checks one raft.Apply of node id's service against the ledger
// and applies it.
func (s *service) apply(id int, m raft.Apply, l *ledger) error {
	if m.IsSnapshot {
		idx, chain, maxCmd, err := decodeSnap(m.Snapshot)
		if err != nil {
			return fmt.Errorf("n%d: snapshot %d/%d: %v", id, m.Index, m.Term, err)
		}
		if idx != m.Index {
			return fmt.Errorf("n%d: snapshot handed out as through %d holds the state through %d", id, m.Index, idx)
		}
		if idx <= s.last {
			return violation(invariants.ApplyOrderName, id, 0, idx, fmt.Sprintf("a snapshot through %d that does not move past the applied state at %d", idx, s.last), "a snapshot beyond what the service applied")
		}
		l.grow(idx)
		if c := l.chain[idx]; c != 0 && c != chain {
			return violation(invariants.StateMachineSafetyName, id, 0, idx, fmt.Sprintf("n%d installed a snapshot through %d that differs from what was applied there", id, idx), "the state other servers applied through it")
		}
		l.chain[idx] = chain
		s.last, s.chain, s.maxCmd = idx, chain, max(s.maxCmd, maxCmd)
		return nil
	}
	if m.Index != s.last+1 {
		return violation(invariants.ApplyOrderName, id, 0, m.Index, fmt.Sprintf("applied index %d after %d", m.Index, s.last), "applies in order, with no gaps")
	}
	cmd, ok := m.Command.(int)
	if !ok || cmd <= 0 {
		return fmt.Errorf("n%d: applied %v (%T) at %d, which no client proposed", id, m.Command, m.Command, m.Index)
	}
	k := m.Index
	l.grow(k)
	if c := l.cmds[k]; c != 0 && c != cmd {
		return violation(invariants.StateMachineSafetyName, id, 0, k, fmt.Sprintf("n%d applied command %d", id, cmd), fmt.Sprintf("command %d, which another server applied", c))
	}
	chain := link(s.chain, cmd)
	if c := l.chain[k]; c != 0 && c != chain {
		return violation(invariants.StateMachineSafetyName, id, 0, k, fmt.Sprintf("n%d applied command %d after a history that differs from another server's", id, cmd), "the same commands before it")
	}
	l.cmds[k], l.chain[k] = cmd, chain
	s.last, s.chain, s.maxCmd = k, chain, max(s.maxCmd, cmd)
	s.since++
	return nil
}

// snapshot is the service's state as bytes: last, chain, maxCmd.
func (s *service) snapshot() []byte {
	b := make([]byte, 0, 24)
	b = binary.AppendUvarint(b, uint64(s.last))
	b = binary.LittleEndian.AppendUint64(b, s.chain)
	return binary.AppendUvarint(b, uint64(s.maxCmd))
}

func decodeSnap(b []byte) (last int, chain uint64, maxCmd int, err error) {
	u, n := binary.Uvarint(b)
	if n <= 0 || len(b) < n+8 {
		return 0, 0, 0, fmt.Errorf("does not decode (%d bytes)", len(b))
	}
	chain = binary.LittleEndian.Uint64(b[n:])
	m, k := binary.Uvarint(b[n+8:])
	if k <= 0 || n+8+k != len(b) {
		return 0, 0, 0, fmt.Errorf("does not decode (%d bytes)", len(b))
	}
	return int(u), chain, int(m), nil
}

// restore is the service of a restarted node: its snapshot's state.
func restore(snap []byte) (*service, error) {
	if len(snap) == 0 {
		return &service{}, nil
	}
	last, chain, maxCmd, err := decodeSnap(snap)
	if err != nil {
		return nil, err
	}
	return &service{last: last, chain: chain, maxCmd: maxCmd}, nil
}

// violation is a failed check of the simulator's own, as an
// invariants.Violation, so that it reads like the Observer's: one format
// for every property, wherever it is checked.
func violation(property string, node, term, index int, found, want string) error {
	return &invariants.Violation{Property: property, Nodes: []int{node}, Term: term, Index: index, Found: found, Want: want}
}

// serviceDelay is how long a service takes to get to what its node handed
// out: up to the schedule's ServiceLag, or with probability ServiceStall a
// stall of 50–300 ms (a slow service; the window of raft-bugs.md M19).
func (s *Sim) serviceDelay() int64 {
	if s.sc.ServiceStall > 0 && s.rng.Float64() < s.sc.ServiceStall {
		return 50e3 + s.rng.Int64N(250e3)
	}
	if s.sc.ServiceLag == 0 {
		return 0
	}
	return s.rng.Int64N(s.sc.ServiceLag + 1)
}

func (s *Sim) snapshotEvery() int {
	if s.sc.SnapshotEvery > 0 {
		return s.sc.SnapshotEvery
	}
	return SnapshotEvery
}

// serve applies what node i handed its service and the service has not
// taken yet, checks it, and snapshots every SnapshotEvery commands (an
// input of the node).
func (s *Sim) serve(i int) {
	nd := s.nodes[i]
	batch := nd.svc.queue
	nd.svc.queue, nd.svc.busy = nil, false
	for _, a := range batch {
		if err := nd.svc.apply(i, a, &s.ledger); err != nil {
			s.fail(err)
			return
		}
		if !a.IsSnapshot {
			s.obs.ApplyCommand(i, a.Index, a.Command)
		} else {
			s.obs.ApplySnapshot(i, a.Index, a.Term)
			s.log.line(s, i, topicSnapshot, "install", "snapshot %d/%d", a.Index, a.Term)
			s.installs++
		}
	}
	s.log.applied(s, i, batch)
	if nd.svc.since < s.snapshotEvery() {
		return
	}
	nd.svc.since = 0
	last, data := nd.svc.last, nd.svc.snapshot()
	s.input(i, topicSnapshot, "snapshot", nil, func(c Core) error { return c.Snapshot(last, data) })
	s.log.line(s, i, topicSnapshot, "snapshot", "through %d", last)
}
