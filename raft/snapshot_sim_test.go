package raft

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/raftspec/raftspec/raftapi"
	"github.com/stretchr/testify/require"
)

// Snapshots and log compaction (§7) in a seeded simulation: three cores,
// each under a service that runs behind it, as under the driver, with
// lost, duplicated and reordered messages, partitions and crashes. The
// unit tests are in snapshot_test.go.

// simService is the service above one node: it consumes what the node's
// applier hands it, one message at a time, behind the core, as under the
// driver, and snapshots after every tenth command.
type simService struct {
	last  int   // index of the last command applied
	log   []int // commands 1..last
	queue []raftapi.ApplyMsg
}

type simSnapshot struct {
	Index int
	Log   []int
}

func encodeSim(s simSnapshot) []byte {
	var b bytes.Buffer
	if err := gob.NewEncoder(&b).Encode(s); err != nil {
		panic(err)
	}
	return b.Bytes()
}

// take checks one ApplyMsg as the harness's applier does, and records it.
// committed is every command applied anywhere, by index.
func (s *simService) take(m raftapi.ApplyMsg, committed map[int]int) error {
	check := func(k, cmd int) error {
		if c, ok := committed[k]; ok && c != cmd {
			return fmt.Errorf("StateMachineSafety: index %d holds %d here, %d elsewhere", k, cmd, c)
		}
		committed[k] = cmd
		return nil
	}
	switch {
	case m.SnapshotValid:
		var snap simSnapshot
		if err := gob.NewDecoder(bytes.NewReader(m.Snapshot)).Decode(&snap); err != nil {
			return fmt.Errorf("snapshot %d does not decode: %v", m.SnapshotIndex, err)
		}
		if snap.Index != m.SnapshotIndex {
			return fmt.Errorf("snapshot delivered as index %d decodes to index %d", m.SnapshotIndex, snap.Index)
		}
		if snap.Index <= s.last {
			return fmt.Errorf("snapshot at index %d does not move past the applied state at %d", snap.Index, s.last)
		}
		for k, cmd := range snap.Log {
			if err := check(k+1, cmd); err != nil {
				return err
			}
		}
		s.last, s.log = snap.Index, slices.Clone(snap.Log)
	case m.CommandValid:
		if m.CommandIndex != s.last+1 {
			return fmt.Errorf("apply out of order %d (want index %d)", m.CommandIndex, s.last+1)
		}
		cmd, _ := m.Command.(int)
		if err := check(m.CommandIndex, cmd); err != nil {
			return err
		}
		s.last++
		s.log = append(s.log, cmd)
	}
	return nil
}

// snapSim runs three cores and their services with one seeded PRNG. Each
// step is one event: a tick, the delivery (or loss, or duplication) of
// one message in flight, a proposal, the applier taking a batch, the
// service consuming one message, a partition change, or a crash and
// restart from what the node last saved.
type snapSim struct {
	rng       *rand.Rand
	nodes     []*node
	saved     []struct{ state, snapshot []byte }
	svc       []*simService
	cut       []bool
	pool      []Message
	committed map[int]int
	nextCmd   int
	installs  int // InstallSnapshot requests that changed a follower
	prev      []localState
	trace     []string
	// applyHook, if set, replaces nextApply: a test plants a bug there.
	applyHook func(r *node) []raftapi.ApplyMsg
}

func newSnapSim(seed uint64) *snapSim {
	s := &snapSim{rng: rand.New(rand.NewPCG(seed, 3)), committed: map[int]int{}, nextCmd: 1}
	for i := range 3 {
		s.nodes = append(s.nodes, nil)
		s.saved = append(s.saved, struct{ state, snapshot []byte }{})
		s.svc = append(s.svc, nil)
		s.cut = append(s.cut, false)
		s.prev = append(s.prev, localState{})
		s.start(i)
	}
	return s
}

// localState is what a node's local properties compare across steps.
type localState struct{ commit, applied, base int }

func local(r *node) localState { return localState{r.commitIndex, r.lastApplied, r.log.base} }

// checkLocal checks the local properties of every node after a step:
// commitIndex, lastApplied and the base never decrease within an
// incarnation, and base, lastApplied <= commitIndex <= lastIndex. These
// are what -tags invariants checks too; here they hold in the plain build.
func (s *snapSim) checkLocal() error {
	for i, r := range s.nodes {
		p, now := s.prev[i], local(r)
		s.prev[i] = now
		switch {
		case now.commit < p.commit:
			return fmt.Errorf("n%d commitIndex went from %d to %d", i, p.commit, now.commit)
		case now.applied < p.applied:
			return fmt.Errorf("n%d lastApplied went from %d to %d", i, p.applied, now.applied)
		case now.base < p.base:
			return fmt.Errorf("n%d snapshot base went from %d to %d", i, p.base, now.base)
		case now.base > now.commit || now.applied > now.commit || now.commit > r.log.lastIndex():
			return fmt.Errorf("n%d base %d, lastApplied %d, commitIndex %d, lastIndex %d", i, now.base, now.applied, now.commit, r.log.lastIndex())
		}
	}
	return nil
}

func (s *snapSim) cfg(i int) Config {
	return Config{ID: i, Peers: 3, ElectionTicks: 10, HeartbeatTicks: 3, Rand: s.rng.IntN}
}

// start makes node i from what it saved, and its service from the saved
// snapshot.
func (s *snapSim) start(i int) {
	st, err := decodeState(s.saved[i].state, i, 3)
	if err != nil {
		panic(err)
	}
	s.nodes[i] = newNode(s.cfg(i), st, s.saved[i].snapshot)
	s.prev[i] = local(s.nodes[i]) // volatile state starts afresh
	s.svc[i] = &simService{}
	if snap := s.saved[i].snapshot; len(snap) > 0 {
		var ss simSnapshot
		if err := gob.NewDecoder(bytes.NewReader(snap)).Decode(&ss); err != nil {
			panic(err)
		}
		s.svc[i].last, s.svc[i].log = ss.Index, ss.Log
	}
}

// ready persists and sends node i's output, as the driver does.
func (s *snapSim) ready(i int) {
	r := s.nodes[i]
	rd := r.Ready()
	if rd.MustPersist {
		s.saved[i].state, s.saved[i].snapshot = r.encodeState(), r.snapshot
		r.persisted()
	}
	s.pool = append(s.pool, rd.Messages...)
}

func (s *snapSim) logf(format string, args ...any) {
	s.trace = append(s.trace, fmt.Sprintf(format, args...))
	if len(s.trace) > 30 {
		s.trace = s.trace[1:]
	}
}

// step runs one random event, most often a tick or a delivery; reliable:
// no loss, no partition changes, no crashes.
func (s *snapSim) step(reliable bool) error {
	i := s.rng.IntN(3)
	r := s.nodes[i]
	switch k := s.rng.IntN(1000); {
	case k < 250:
		r.Tick()
		s.ready(i)
	case k < 650 && len(s.pool) > 0:
		j := s.rng.IntN(len(s.pool))
		m := s.pool[j]
		if reliable || s.rng.IntN(10) != 0 { // one in ten is duplicated
			s.pool = slices.Delete(s.pool, j, j+1)
		}
		if !reliable && (s.cut[m.From] || s.cut[m.To] || s.rng.IntN(10) == 0) {
			s.logf("lose %v", &m)
			return nil
		}
		to := s.nodes[m.To]
		base := to.log.base
		if err := to.Step(m); err != nil {
			return err
		}
		if m.Kind == MsgInstallSnapshot && to.log.base > base {
			s.installs++
		}
		s.logf("deliver %v", &m)
		s.ready(m.To)
	case k < 750:
		// A client finds a leader (there may be several, of different
		// terms).
		for _, j := range s.rng.Perm(3) {
			if l := s.nodes[j]; l.role == leader {
				idx, _, _ := l.Propose(s.nextCmd)
				s.logf("n%d propose %d at %d", j, s.nextCmd, idx)
				s.nextCmd++
				s.ready(j)
				break
			}
		}
	case k < 850:
		// The applier takes the next batch once the last one is sent.
		if len(s.svc[i].queue) == 0 {
			if s.applyHook != nil {
				s.svc[i].queue = s.applyHook(r)
			} else {
				s.svc[i].queue = r.nextApply()
			}
		}
	case k < 990:
		// The service takes a few of what the applier handed it.
		svc := s.svc[i]
		for range 1 + s.rng.IntN(8) {
			if len(svc.queue) == 0 {
				break
			}
			m := svc.queue[0]
			svc.queue = svc.queue[1:]
			s.logf("n%d service takes %s", i, describeApply(m))
			if err := svc.take(m, s.committed); err != nil {
				return fmt.Errorf("n%d service: %v", i, err)
			}
			if m.CommandValid && m.CommandIndex%10 == 0 {
				data := encodeSim(simSnapshot{Index: svc.last, Log: svc.log})
				if err := r.Snapshot(svc.last, data); err != nil {
					return err
				}
				s.ready(i)
			}
		}
	case k < 996 && !reliable:
		// One server at most is cut off, so that the others progress
		// and compact past it.
		clear(s.cut)
		s.cut[i] = s.rng.IntN(2) == 0
		s.logf("partition: n%d cut off %v", i, s.cut[i])
	case k < 1000 && !reliable:
		s.logf("n%d crashes and restarts", i)
		s.start(i)
	}
	return nil
}

func describeApply(m raftapi.ApplyMsg) string {
	if m.SnapshotValid {
		return fmt.Sprintf("snapshot %d/%d", m.SnapshotIndex, m.SnapshotTerm)
	}
	return fmt.Sprintf("command %v at %d", m.Command, m.CommandIndex)
}

// run runs steps random events, then heals everything and runs until
// every service has applied a command proposed after healing. It returns
// the first failure, with the last events.
func (s *snapSim) run(steps int) error {
	fail := func(step int, err error) error {
		return fmt.Errorf("step %d: %v\nlast events:\n\t%s", step, err, strings.Join(s.trace, "\n\t"))
	}
	for step := range steps {
		if err := s.step(false); err != nil {
			return fail(step, err)
		}
		if err := s.checkLocal(); err != nil {
			return fail(step, err)
		}
	}
	clear(s.cut)
	final := -1
	for step := range 20 * steps {
		if err := s.step(true); err != nil {
			return fail(steps+step, err)
		}
		if err := s.checkLocal(); err != nil {
			return fail(steps+step, err)
		}
		if final < 0 {
			for _, r := range s.nodes {
				if r.role == leader {
					final, _, _ = r.Propose(-1)
					s.ready(r.id)
					break
				}
			}
			continue
		}
		done := true
		for _, svc := range s.svc {
			done = done && svc.last >= final
		}
		if done {
			return nil
		}
	}
	return fail(21*steps, fmt.Errorf("after healing, the services did not all reach index %d: %d %d %d",
		final, s.svc[0].last, s.svc[1].last, s.svc[2].last))
}

// TestSnapshotSimulation runs the simulation over many seeds: services
// that lag their cores, snapshots from the service and from the leader,
// lost, duplicated and reordered messages, partitions and crashes. Every
// apply must come in order, every snapshot must move the service forward
// (M19), the restarted service and node must agree (M20), and after
// healing every service catches up. Replay one seed with
// go test -run 'TestSnapshotSimulation/seed=N$' ./raft/
func TestSnapshotSimulation(t *testing.T) {
	seeds, steps := 300, 3000
	if testing.Short() || raceOn {
		seeds = 30
	}
	installs := 0
	for seed := range uint64(seeds) {
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
			s := newSnapSim(seed)
			if err := s.run(steps); err != nil {
				t.Fatal(err)
			}
			installs += s.installs
		})
	}
	require.Greater(t, installs, seeds, "the simulation must exercise InstallSnapshot")
	// Reference: section 7
}

// The simulation's checks catch a node that hands its service an older
// snapshot after newer entries (M19): planted in the applier.
func TestSnapshotSimulationCatchesOlderSnapshot(t *testing.T) {
	caught := 0
	for seed := range uint64(20) {
		s := newSnapSim(seed)
		var old []raftapi.ApplyMsg
		s.applyHook = func(r *node) []raftapi.ApplyMsg {
			msgs := r.nextApply()
			if len(msgs) > 0 && old == nil && r.log.base > 0 && r.lastApplied > r.log.base {
				// Replay the node's own snapshot, older than what it applied.
				old = []raftapi.ApplyMsg{{SnapshotValid: true, Snapshot: r.snapshot, SnapshotIndex: r.log.base, SnapshotTerm: r.log.baseTerm}}
				return append(msgs, old...)
			}
			return msgs
		}
		if err := s.run(3000); err != nil {
			require.Contains(t, err.Error(), "does not move past the applied state")
			caught++
		}
	}
	require.Greater(t, caught, 10, "the planted older snapshot must be caught")
}

func TestSimServiceChecks(t *testing.T) {
	committed := map[int]int{}
	s := &simService{}
	cmd := func(i int) raftapi.ApplyMsg {
		return raftapi.ApplyMsg{CommandValid: true, Command: 100 + i, CommandIndex: i}
	}
	snap := func(claim, index int) raftapi.ApplyMsg {
		log := make([]int, index)
		for k := range log {
			log[k] = 101 + k
		}
		return raftapi.ApplyMsg{SnapshotValid: true, SnapshotIndex: claim, Snapshot: encodeSim(simSnapshot{index, log})}
	}
	require.NoError(t, s.take(cmd(1), committed))
	require.ErrorContains(t, s.take(cmd(3), committed), "apply out of order 3 (want index 2)")
	require.NoError(t, s.take(snap(5, 5), committed))
	require.ErrorContains(t, s.take(cmd(2), committed), "apply out of order 2 (want index 6)")
	require.ErrorContains(t, s.take(snap(4, 4), committed), "does not move past the applied state at 5")
	require.ErrorContains(t, s.take(snap(8, 7), committed), "delivered as index 8 decodes to index 7")
	other := &simService{}
	require.ErrorContains(t, other.take(raftapi.ApplyMsg{CommandValid: true, Command: 7, CommandIndex: 1}, committed), "StateMachineSafety")
}
