// Package sim is a deterministic simulator for the reference core: it
// drives N raft.Nodes directly, with no goroutines, on a virtual clock,
// with every random choice (election timeouts included) drawn from one
// seeded PRNG. A network loses, duplicates, delays and reorders messages
// and cuts servers off (both ways and one way); servers crash, at any
// point (between persisting and sending included), and restart from what
// they persisted; clients propose commands. A run is a function of its
// Options: one seed gives one event log, byte for byte, so every failure
// replays.
//
// Every event is checked: with -tags invariants the core reports each
// transition to a fresh invariants.Observer (the properties of Figure 3
// and the local ones, persist-before-send included); in every build the
// simulator checks what each service applies (in order, no gaps, one
// command per index across servers: StateMachineSafety), one leader per
// term (ElectionSafety, from each node's Status), commitIndex never
// going back within an incarnation, and the Node contract (Advance's
// persist-before-send check). After the fault phase the network heals
// and every server restarts; a liveness phase then requires a leader and
// a new command applied by every server within a bound of virtual time.
//
// docs/simulation.md has the schedules, the event log's format and the
// figures.
package sim

import (
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"time"

	"github.com/raftspec/raftspec/invariants"
	"github.com/raftspec/raftspec/raft"
)

// Core is what the simulator uses of a node: *raft.Node's methods. A test
// double wraps one (Options.Wrap).
type Core interface {
	Step(raft.Message) error
	Tick() error
	Propose(command any) (index, term int, ok bool)
	Snapshot(index int, data []byte) error
	Unreachable(peer int)
	HasReady() bool
	Ready() raft.Output
	Advance() error
	Status() raft.Status
}

var _ Core = (*raft.Node)(nil)

// Timing. A tick is 20 ms: elections time out after 300–600 ms and a
// leader's heartbeat interval is 100 ms, as under the driver.
const (
	TickInterval   = 20 * time.Millisecond
	ElectionTicks  = 15
	HeartbeatTicks = 5
	// SnapshotEvery is how many commands a service applies between its
	// snapshots, unless its schedule says otherwise.
	SnapshotEvery = 25
)

// Options say what one run does. Zero fields get the defaults.
type Options struct {
	Seed     uint64
	Schedule string        // a name of Schedules; default "churn"
	Servers  int           // default 5
	Duration time.Duration // virtual time of the fault phase; default 60 s
	// Events ends the fault phase early, after so many events (0: no
	// limit).
	Events int
	// Liveness bounds the time from healing to a new command applied by
	// every server; default 10 s.
	Liveness time.Duration
	// Log, if set, gets the event log, a line per event (and per state
	// change an event made).
	Log io.Writer
	// Wrap, if set, wraps each node as it is made: a test plants a bug.
	Wrap func(id int, c Core) Core
	// Validate checks every step of every node against the executable
	// spec while the run stays within the spec's bounds (trace.go;
	// Result.Trace says how far it went).
	Validate bool

	_ struct{} // disallow positional literals, for extensibility
}

func (o *Options) defaults() error {
	if o.Schedule == "" {
		o.Schedule = "churn"
	}
	if o.Servers == 0 {
		o.Servers = 5
	}
	if o.Duration == 0 {
		o.Duration = 60 * time.Second
	}
	if o.Liveness == 0 {
		o.Liveness = 10 * time.Second
	}
	switch {
	case o.Servers < 1 || o.Servers > 9:
		return fmt.Errorf("servers must be in [1, 9], not %d", o.Servers)
	case o.Duration < 0 || o.Liveness < 0 || o.Events < 0:
		return fmt.Errorf("duration, liveness and events must not be negative")
	}
	_, err := lookup(o.Schedule)
	return err
}

// Result is what a run did.
type Result struct {
	Options  Options
	Events   int           // events run
	Virtual  time.Duration // virtual time at the end
	Elected  int           // terms with a leader
	Commands int           // commands applied, at the highest index applied anywhere
	Crashes  int
	Installs int        // snapshots services installed from their nodes (InstallSnapshot's)
	Trace    TraceStats // with Options.Validate
	// Err is the first failure, nil if the run passed.
	Err *Failure
}

// Failure is a failed check: what failed, where, and how to replay it.
type Failure struct {
	Seed     uint64
	Schedule string
	Event    int    // the number of the event after which the check failed
	Line     string // the event, as the log shows it
	Err      error
	Replay   string // the command that replays the run and prints its log
}

func (f *Failure) Error() string {
	line := "" // the event, if the run had a log; the replay shows it
	if f.Line != "" {
		line = " (" + f.Line + ")"
	}
	return fmt.Sprintf("seed %d schedule %s: event %d%s: %v\nreplay: %s", f.Seed, f.Schedule, f.Event, line, f.Err, f.Replay)
}

func (f *Failure) Unwrap() error { return f.Err }

// ReplayCommand is the command line that replays a run of o.
func ReplayCommand(o Options) string {
	cmd := fmt.Sprintf("go run -tags invariants ./cmd/raftspec sim -seed %d -schedule %s -servers %d -duration %v", o.Seed, o.Schedule, o.Servers, o.Duration)
	if o.Events > 0 {
		cmd += fmt.Sprintf(" -events %d", o.Events)
	}
	if o.Validate {
		cmd += " -validate"
	}
	return cmd
}

// srv is one server: its node, its stable storage, its service.
type srv struct {
	core  Core
	down  bool
	inc   int    // incarnation: bumped by each crash
	state []byte // the node's state as last saved (raft.EncodeState's bytes)
	snap  []byte
	enc   *raft.StateEncoder // encodes the states of this incarnation's node
	svc   *service
	last  raft.Status // as last seen, for localOrder
	// crashAtFlush: crash at the next flush, after persisting and before
	// sending.
	crashAtFlush bool
}

// Sim is one run in progress.
type Sim struct {
	opt  Options
	sc   *Schedule
	rng  *rand.Rand
	n    int
	obs  *invariants.Observer
	q    queue
	slab []raft.Message
	free []int

	nodes   []*srv
	iso     []bool
	oneway  [][]bool
	healed  bool
	ledger  ledger
	leaders map[int]int // term → leader

	now     int64
	events  int
	nextCmd int
	// liveness
	healCmd  int // the first command proposed after healing; 0 none yet
	crashes  int
	installs int

	log logger
	err error   // the first failure
	tv  *tracer // with Options.Validate
}

// CheckOptions says what is wrong with o, if anything: Run would refuse
// it with this error.
func CheckOptions(o Options) error { return o.defaults() }

// Run runs one simulation. The error is for bad Options only; a failed
// check is Result.Err.
func Run(o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	s := newSim(o)
	s.run()
	r := &Result{Options: s.opt, Events: s.events, Virtual: time.Duration(s.now) * time.Microsecond,
		Elected: len(s.leaders), Commands: len(s.ledger.cmds) - 1, Crashes: s.crashes, Installs: s.installs}
	if r.Commands < 0 {
		r.Commands = 0
	}
	if s.tv != nil {
		r.Trace = s.tv.stats
	}
	if s.err != nil {
		r.Err = &Failure{Seed: o.Seed, Schedule: s.opt.Schedule, Event: s.events, Line: s.log.last, Err: s.err, Replay: ReplayCommand(s.opt)}
	}
	return r, nil
}

func newSim(o Options) *Sim {
	sc, _ := lookup(o.Schedule)
	s := &Sim{opt: o, sc: sc, n: o.Servers, rng: rand.New(rand.NewPCG(o.Seed, 0x5eed)),
		obs: invariants.NewObserver(), leaders: map[int]int{}, nextCmd: 1}
	s.log = logger{w: o.Log}
	s.ledger.grow(0)
	s.iso = make([]bool, s.n)
	s.oneway = make([][]bool, s.n)
	for i := range s.n {
		s.oneway[i] = make([]bool, s.n)
		s.nodes = append(s.nodes, &srv{down: true})
	}
	return s
}

func (s *Sim) us(d time.Duration) int64 { return int64(d / time.Microsecond) }

func (s *Sim) at(d int64, e event) {
	e.at = s.now + d
	s.q.push(e)
}

func (s *Sim) run() {
	for i := range s.n {
		s.start(i)
	}
	s.at(s.us(s.opt.Duration), event{kind: evHeal})
	s.at(s.faultGap(), event{kind: evFault})
	s.at(s.clientGap(), event{kind: evClient})
	for s.err == nil && s.q.len() > 0 {
		e := s.q.pop()
		s.now = e.at
		s.events++
		s.handle(e)
		if s.err == nil {
			s.check()
		}
		if s.done() {
			return
		}
		if !s.healed && s.opt.Events > 0 && s.events >= s.opt.Events {
			s.heal()
		}
	}
}

func (s *Sim) faultGap() int64  { return s.rng.Int64N(2*s.sc.FaultEvery) + 1 }
func (s *Sim) clientGap() int64 { return 10e3 + s.rng.Int64N(200e3) }

func (s *Sim) fail(err error) {
	if s.err == nil {
		s.err = err
	}
}

// start makes node i from its stable storage.
func (s *Sim) start(i int) {
	nd := s.nodes[i]
	cfg := raft.Config{ID: i, Peers: s.n, ElectionTicks: ElectionTicks, HeartbeatTicks: HeartbeatTicks, Rand: s.rng.IntN, Observer: s.obs}
	st, err := raft.DecodeState(nd.state, i, s.n)
	var c *raft.Node
	if err == nil {
		c, err = raft.NewNode(cfg, st, nd.snap)
	}
	if err != nil {
		s.fail(fmt.Errorf("n%d cannot restart from what it persisted: %w", i, err))
		return
	}
	svc, err := restoreService(nd.snap)
	if err != nil {
		s.fail(fmt.Errorf("n%d's service cannot restart from its snapshot: %w", i, err))
		return
	}
	nd.core, nd.down, nd.svc, nd.crashAtFlush, nd.enc = c, false, svc, false, &raft.StateEncoder{}
	if s.opt.Wrap != nil {
		nd.core = s.opt.Wrap(i, c)
	}
	nd.last = nd.core.Status()
	s.log.line(s, i, topicCrash, "start", "term %d last %d base %d", c.Status().Term, c.Status().LastIndex, c.Status().Base)
	s.traceStarted(i, c)
	// Ticks start at a random phase within the first interval.
	s.at(1+s.rng.Int64N(s.us(TickInterval)), event{kind: evTick, node: i, inc: nd.inc})
}

func restoreService(snap []byte) (*service, error) { return restore(snap) }

// crash stops node i now, or (atFlush) at its next flush between
// persisting and sending, or 200 ms from now if no flush comes first.
func (s *Sim) crash(i int, atFlush bool) {
	if i < 0 || s.nodes[i].down {
		return
	}
	if atFlush {
		s.nodes[i].crashAtFlush = true
		s.log.line(s, i, topicCrash, "crash planned", "at the next save")
		s.at(200e3, event{kind: evCrashNow, node: i, inc: s.nodes[i].inc})
		return
	}
	s.crashNow(i, "crash")
}

func (s *Sim) crashNow(i int, why string) {
	nd := s.nodes[i]
	nd.down, nd.crashAtFlush, nd.core = true, false, nil
	nd.inc++
	s.crashes++
	s.obs.Crash(i)
	s.log.line(s, i, topicCrash, why, "")
}

func (s *Sim) restart(i int) {
	if i < 0 || !s.nodes[i].down {
		return
	}
	s.start(i)
}

func (s *Sim) isolated(i int) bool { return s.iso[i] }

func (s *Sim) isolate(i int) {
	if i < 0 {
		return
	}
	s.iso[i] = true
	s.log.line(s, i, topicNet, "cut off", "")
}

func (s *Sim) reconnect(i int) {
	if i < 0 {
		return
	}
	s.iso[i] = false
	for j := range s.n {
		s.oneway[i][j], s.oneway[j][i] = false, false
	}
	s.log.line(s, i, topicNet, "reconnected", "")
}

func (s *Sim) cutLink(a, b int) {
	s.oneway[a][b] = true
	s.log.line(s, a, topicNet, "link cut", "n%d→n%d (one way)", a, b)
}

func (s *Sim) linked(a, b int) bool { return !s.iso[a] && !s.iso[b] && !s.oneway[a][b] }

func (s *Sim) up() int {
	k := 0
	for _, nd := range s.nodes {
		if !nd.down {
			k++
		}
	}
	return k
}

func (s *Sim) connected() int {
	k := 0
	for _, c := range s.iso {
		if !c {
			k++
		}
	}
	return k
}

func (s *Sim) majority() int { return s.n/2 + 1 }

// leader is a live node that believes it leads, the one of the highest
// term; -1 if none.
func (s *Sim) leader() int {
	l, term := -1, -1
	for i, nd := range s.nodes {
		if !nd.down {
			if st := nd.core.Status(); st.Leader && st.Term > term {
				l, term = i, st.Term
			}
		}
	}
	return l
}

// pick is a random node that ok accepts, or -1.
func (s *Sim) pick(ok func(int) bool) int {
	var c [16]int
	k := 0
	for i := range s.n {
		if ok(i) {
			c[k] = i
			k++
		}
	}
	if k == 0 {
		return -1
	}
	return c[s.rng.IntN(k)]
}

func (s *Sim) handle(e event) {
	switch e.kind {
	case evTick:
		nd := s.nodes[e.node]
		if nd.down || nd.inc != e.inc {
			return
		}
		s.at(s.us(TickInterval), event{kind: evTick, node: e.node, inc: e.inc})
		s.input(e.node, topicTick, "tick", nil, func(c Core) error { return c.Tick() })
	case evDeliver:
		s.deliver(e)
	case evUnreachable:
		nd := s.nodes[e.node]
		if nd.down || nd.inc != e.inc {
			return
		}
		s.input(e.node, topicNet, "unreachable", nil, func(c Core) error { c.Unreachable(e.peer); return nil })
	case evClient:
		s.client()
		s.at(s.clientGap(), event{kind: evClient})
	case evFault:
		if !s.healed {
			s.sc.act(s)
			s.at(s.faultGap(), event{kind: evFault})
		}
	case evService:
		if nd := s.nodes[e.node]; !nd.down && nd.inc == e.inc {
			s.serve(e.node)
		}
	case evCrashNow:
		if nd := s.nodes[e.node]; !nd.down && nd.inc == e.inc && nd.crashAtFlush {
			s.crashNow(e.node, "crash")
		}
	case evHeal:
		s.heal()
	case evDeadline:
		s.fail(s.livenessFailure())
	}
}

// heal ends the fault phase: the network becomes reliable and whole, and
// every crashed server restarts. The liveness bound starts now.
func (s *Sim) heal() {
	if s.healed {
		return
	}
	s.healed = true
	clear(s.iso)
	for i := range s.n {
		clear(s.oneway[i])
	}
	s.log.line(s, -1, topicNet, "heal", "the network is reliable and whole; crashed servers restart; liveness bound %v", s.opt.Liveness)
	for i, nd := range s.nodes {
		nd.crashAtFlush = false // a planned crash is a fault: none after healing
		s.restart(i)
	}
	s.at(s.us(s.opt.Liveness), event{kind: evDeadline})
}

// done says whether the liveness phase is over: a command proposed after
// healing was applied by every server.
func (s *Sim) done() bool {
	if !s.healed || s.healCmd == 0 {
		return false
	}
	for _, nd := range s.nodes {
		if nd.down || nd.svc.maxCmd < s.healCmd {
			return false
		}
	}
	return true
}

func (s *Sim) livenessFailure() error {
	if s.healCmd == 0 {
		return fmt.Errorf("Liveness: no leader accepted a command within %v of healing", s.opt.Liveness)
	}
	var lag []string
	for i, nd := range s.nodes {
		if nd.svc.maxCmd < s.healCmd {
			lag = append(lag, fmt.Sprintf("n%d (applied through %d)", i, nd.svc.last))
		}
	}
	return fmt.Errorf("Liveness: command %d, proposed after healing, not applied by %v within %v of healing", s.healCmd, lag, s.opt.Liveness)
}

// client proposes the next command to the first server, from a random
// one on, that accepts it (as the lab's clients look for the leader).
func (s *Sim) client() {
	first := s.rng.IntN(s.n)
	for k := range s.n {
		i := (first + k) % s.n
		nd := s.nodes[i]
		if nd.down {
			continue
		}
		cmd := s.nextCmd
		var idx, term int
		var ok bool
		s.input(i, topicClient, "propose", nil, func(c Core) error {
			idx, term, ok = c.Propose(cmd)
			return nil
		})
		if ok {
			s.log.line(s, i, topicClient, "accepted", "command %d at %d term %d", cmd, idx, term)
			s.nextCmd++
			if s.healed && s.healCmd == 0 {
				s.healCmd = cmd
			}
			return
		}
	}
}

// send puts m on the network, or loses it.
func (s *Sim) send(m raft.Message) {
	lost := !s.linked(m.From, m.To)
	if !s.healed && !lost && s.sc.Drop > 0 && s.rng.Float64() < s.sc.Drop {
		lost = true
	}
	if lost {
		s.lose(&m, "lost")
		return
	}
	copies := 1
	if !s.healed && s.sc.Duplicate > 0 && s.rng.Float64() < s.sc.Duplicate {
		copies = 2
	}
	for range copies {
		var k int
		if n := len(s.free); n > 0 {
			k = s.free[n-1]
			s.free = s.free[:n-1]
			s.slab[k] = m
		} else {
			k = len(s.slab)
			s.slab = append(s.slab, m)
		}
		s.at(s.delay(isReply(m.Kind)), event{kind: evDeliver, msg: k})
	}
}

// delay is how long a message takes. As in the lab's labrpc, long
// reordering holds back replies only: a request takes effect at once, its
// answer arrives late.
func (s *Sim) delay(reply bool) int64 {
	if s.healed {
		return 100 + s.rng.Int64N(2000)
	}
	if (reply || s.sc.LongDelayRequests) && s.sc.LongDelay > 0 && s.rng.Float64() < s.sc.LongDelay {
		return 200e3 + s.rng.Int64N(1+s.rng.Int64N(2e6))
	}
	return 100 + s.rng.Int64N(s.sc.MaxDelay)
}

// lose drops m; its request's sender learns it failed after a while, as
// the lab's Call returns false.
func (s *Sim) lose(m *raft.Message, why string) {
	s.log.msg(s, m, why)
	from := m.From
	if isReply(m.Kind) {
		from = m.To // the request's sender waits for this reply
	}
	if from < 0 || from >= s.n || s.nodes[from].down {
		return
	}
	peer := m.To
	if isReply(m.Kind) {
		peer = m.From
	}
	s.at(50e3+s.rng.Int64N(450e3), event{kind: evUnreachable, node: from, peer: peer, inc: s.nodes[from].inc})
}

func isReply(k raft.MsgKind) bool {
	return k == raft.MsgRequestVoteReply || k == raft.MsgAppendEntriesReply || k == raft.MsgInstallSnapshotReply
}

func (s *Sim) deliver(e event) {
	m := s.slab[e.msg]
	s.slab[e.msg] = raft.Message{}
	s.free = append(s.free, e.msg)
	nd := s.nodes[m.To]
	if nd.down || !s.linked(m.From, m.To) {
		why := "lost: n" + itoa(m.To) + " is down"
		if !nd.down {
			why = "lost: cut off"
		}
		s.lose(&m, why)
		return
	}
	s.input(m.To, topicOf(m.Kind), "recv", &m, func(c Core) error { return c.Step(m) })
}

// input runs one input on node i, then carries out its output (flush),
// and logs what changed.
func (s *Sim) input(i int, topic Topic, what string, m *raft.Message, in func(Core) error) {
	nd := s.nodes[i]
	before := nd.core.Status()
	err := in(nd.core)
	if err != nil {
		s.log.line(s, i, topic, what, "error: %v", err)
		s.fail(fmt.Errorf("n%d %s: %w", i, what, err))
		return
	}
	if m != nil {
		s.log.msg(s, m, what)
	}
	s.changes(i, before, nd.core.Status())
	s.traceStep(i, what, m)
	s.flush(i)
}

// flush carries out node i's output: persist, then send, then apply; the
// service may then snapshot, which is a new input.
func (s *Sim) flush(i int) {
	nd := s.nodes[i]
	for round := 0; !nd.down && nd.core.HasReady() && s.err == nil; round++ {
		if round > 100 {
			s.fail(fmt.Errorf("n%d: HasReady after 100 rounds of Ready and Advance", i))
			return
		}
		out := nd.core.Ready()
		if out.Persist != nil {
			state, err := nd.enc.Encode(out.Persist)
			if err != nil {
				s.fail(fmt.Errorf("n%d: %w", i, err))
				return
			}
			nd.state, nd.snap = state, out.Snapshot
			s.log.line(s, i, topicPersist, "persist", "%d bytes, snapshot %d bytes", len(state), len(out.Snapshot))
			if nd.crashAtFlush {
				s.crashNow(i, "crash after persisting, before sending")
				return
			}
		}
		for _, m := range out.Messages {
			s.send(m)
		}
		// The service takes what the node hands out later, as the
		// driver's applier runs behind the core.
		if len(out.Apply) > 0 {
			nd.svc.queue = append(nd.svc.queue, out.Apply...)
			if !nd.svc.busy {
				nd.svc.busy = true
				s.at(s.serviceDelay(), event{kind: evService, node: i, inc: nd.inc})
			}
		}
		if err := nd.core.Advance(); err != nil {
			s.fail(fmt.Errorf("Advance: %w", err))
			return
		}
	}
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

// changes logs what an input changed of node i's state, and checks
// ElectionSafety and that commitIndex does not go back.
func (s *Sim) changes(i int, a, b raft.Status) {
	switch {
	case b.Leader && !a.Leader:
		s.log.line(s, i, topicElection, "leader", "term %d last %d/%d", b.Term, b.LastIndex, b.LastTerm)
	case b.Candidate && (!a.Candidate || b.Term != a.Term):
		s.log.line(s, i, topicElection, "candidate", "term %d", b.Term)
	case !b.Leader && !b.Candidate && (a.Leader || a.Candidate):
		s.log.line(s, i, topicElection, "follower", "term %d", b.Term)
	case b.Term != a.Term:
		s.log.line(s, i, topicElection, "term", "%d", b.Term)
	}
	if b.Leader {
		if l, ok := s.leaders[b.Term]; !ok {
			s.leaders[b.Term] = i
		} else if l != i {
			s.fail(&invariants.Violation{Property: invariants.ElectionSafetyName, Nodes: []int{i, l}, Term: b.Term,
				Found: fmt.Sprintf("n%d leader of term %d, which n%d already leads", i, b.Term, l), Want: "at most one leader per term"})
		}
	}
	if b.CommitIndex != a.CommitIndex {
		s.log.line(s, i, topicCommit, "commit", "%d → %d", a.CommitIndex, b.CommitIndex)
	}
	nd := s.nodes[i]
	if err := localOrder(i, nd.last, b); err != nil {
		s.fail(err)
	}
	nd.last = b
}

// localOrder checks the local properties of node i across one input, from
// its Status before (last) to after (now), in every build (-tags
// invariants checks them too): commitIndex, lastApplied and the snapshot's
// base never go back within an incarnation, and base, lastApplied ≤
// commitIndex ≤ the last index.
func localOrder(i int, last, now raft.Status) error {
	switch {
	case now.CommitIndex < last.CommitIndex:
		return violation(invariants.CommitIndexName, i, now.Term, 0, fmt.Sprintf("commitIndex went from %d to %d", last.CommitIndex, now.CommitIndex), "commitIndex never decreases")
	case now.LastApplied < last.LastApplied:
		return violation(invariants.LastAppliedName, i, now.Term, 0, fmt.Sprintf("lastApplied went from %d to %d", last.LastApplied, now.LastApplied), "lastApplied never decreases")
	case now.Base < last.Base:
		return violation(invariants.SnapshotMonotonicName, i, now.Term, 0, fmt.Sprintf("the snapshot's base went from %d to %d", last.Base, now.Base), "the base never decreases")
	case now.Base > now.CommitIndex || now.LastApplied > now.CommitIndex || now.CommitIndex > now.LastIndex:
		return violation(invariants.CommitIndexName, i, now.Term, 0, fmt.Sprintf("base %d, lastApplied %d, commitIndex %d, last index %d", now.Base, now.LastApplied, now.CommitIndex, now.LastIndex),
			"base, lastApplied ≤ commitIndex ≤ last index")
	}
	return nil
}

// check runs the Observer's verdict after each event.
func (s *Sim) check() {
	if err := s.obs.Err(); err != nil {
		s.fail(err)
	}
}

// ErrBadOptions marks an error of Run's Options.
var ErrBadOptions = errors.New("bad options")
