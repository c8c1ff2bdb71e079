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
	"context"
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

// MaxServers is the largest cluster Run simulates.
const MaxServers = 9

// Options say what one run does. Zero fields get the defaults.
type Options struct {
	Seed     uint64
	Schedule string        // a name of ScheduleNames; default "churn"
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
	// Context, if set, ends the run early when it is done (checked every
	// 1,024 events): Result.Stopped says so, and the run neither passed
	// nor failed.
	Context context.Context
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
	case o.Servers < 1 || o.Servers > MaxServers:
		return fmt.Errorf("%w: servers must be in [1, %d], not %d", ErrBadOptions, MaxServers, o.Servers)
	case o.Duration < 0 || o.Liveness < 0 || o.Events < 0:
		return fmt.Errorf("%w: duration, liveness and events must not be negative", ErrBadOptions)
	}
	if _, err := lookup(o.Schedule); err != nil {
		return fmt.Errorf("%w: %v", ErrBadOptions, err)
	}
	return nil
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
	Stopped  bool       // Options.Context ended the run before its end
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
	build := "go run ./cmd/raftspec" // as this run was built: the same checks fire
	if raft.InvariantsOn {
		build = "go run -tags invariants ./cmd/raftspec"
	}
	cmd := fmt.Sprintf("%s sim -seed %d -schedule %s -servers %d -duration %v", build, o.Seed, o.Schedule, o.Servers, o.Duration)
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
	sc   *schedule
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
	stopped  bool

	log logger
	err error   // the first failure
	tv  *tracer // with Options.Validate
}

// CheckOptions says what is wrong with o, if anything: Run would refuse
// it with this error.
func CheckOptions(o Options) error { return o.defaults() }

// Run runs one simulation. The error is for bad Options, or an event log
// that could not be written (the Result is then still the run's); a failed
// check is Result.Err.
func Run(o Options) (*Result, error) {
	if err := o.defaults(); err != nil {
		return nil, err
	}
	s := newSim(o)
	s.run()
	r := &Result{Options: s.opt, Events: s.events, Virtual: time.Duration(s.now) * time.Microsecond,
		Elected: len(s.leaders), Commands: len(s.ledger.cmds) - 1, Crashes: s.crashes, Installs: s.installs, Stopped: s.stopped}
	if r.Commands < 0 {
		r.Commands = 0
	}
	if s.tv != nil {
		r.Trace = s.tv.stats
	}
	if s.err != nil {
		r.Err = &Failure{Seed: o.Seed, Schedule: s.opt.Schedule, Event: s.events, Line: s.log.last, Err: s.err, Replay: ReplayCommand(s.opt)}
	}
	if s.log.err != nil {
		return r, fmt.Errorf("writing the event log: %w (the log is incomplete)", s.log.err)
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
		if s.opt.Context != nil && s.events%1024 == 0 && s.opt.Context.Err() != nil {
			s.stopped = true
			return
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
	svc, err := restore(nd.snap)
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
		if out.Err != nil {
			s.fail(fmt.Errorf("n%d: %w", i, out.Err)) // before anything is saved or sent
			return
		}
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

// ErrBadOptions marks an error of Run's Options (CheckOptions, Run).
var ErrBadOptions = errors.New("bad options")
