package sim

import (
	"fmt"
	"slices"
	"strings"
)

// A schedule is a family of random fault schedules: the network's
// behaviour during the fault phase, and what the schedule does at each of
// its fault events. Every choice comes from the run's one PRNG.
type schedule struct {
	Name string
	Doc  string

	// The network during the fault phase (after it heals: reliable).
	Drop      float64 // probability that a message is lost
	Duplicate float64 // probability that a message is delivered twice
	MaxDelay  int64   // µs: a delivery takes 0.1 ms + [0, MaxDelay)
	// LongDelay is the probability that a reply is held back 200 ms to
	// 2.2 s (the lab's "long reordering"), overtaken by later ones.
	LongDelay float64

	// FaultEvery is the mean interval of fault events, µs (each drawn in
	// [0, 2*FaultEvery)); act is what one does.
	FaultEvery int64
	act        func(s *Sim)

	// The services: each takes what its node hands out after up to
	// ServiceLag µs, or, with probability ServiceStall, after a stall of
	// 50–300 ms (a slow service, while its node goes on).
	ServiceLag   int64
	ServiceStall float64
	// Requests too are held back by LongDelay (the lab's labrpc holds
	// back only replies): requests overtake each other, and an old one
	// arrives after newer ones (raft-bugs.md M2, M19).
	LongDelayRequests bool
	// SnapshotEvery, if not 0, replaces sim.SnapshotEvery: how many
	// commands a service applies between its snapshots.
	SnapshotEvery int
}

// schedules are the schedules Run knows, by name; ScheduleNames and
// ScheduleDoc show them. They are this package's own: a schedule needs its
// act, and its intervals must be positive.
var schedules = map[string]*schedule{}

func init() {
	for _, sc := range []*schedule{
		{
			Name:     "calm",
			Doc:      "no faults: a reliable network, no crashes (a baseline)",
			MaxDelay: 2000, FaultEvery: 1e6,
			act: func(*Sim) {},
		},
		{
			Name: "figure8",
			Doc: "the lab's Figure8: a reliable network; the leader crashes half the time, at any point " +
				"(between persisting and sending included), and crashed servers restart whenever fewer than a majority are up",
			MaxDelay: 2000, FaultEvery: 120e3, ServiceLag: 2000, ServiceStall: 0.02,
			act: actFigure8,
		},
		{
			Name: "figure8unreliable",
			Doc: "the lab's Figure8Unreliable: 10% of messages lost, 2% duplicated, two thirds of replies held back " +
				"200 ms to 2.2 s; the leader is cut off half the time, and servers reconnect whenever fewer than a majority are connected",
			Drop: 0.1, Duplicate: 0.02, MaxDelay: 27000, LongDelay: 2.0 / 3, FaultEvery: 120e3,
			ServiceLag: 2000, ServiceStall: 0.02,
			act: actFigure8Unreliable,
		},
		{
			Name: "churn",
			Doc: "the lab's churn: 10% of messages lost, 2% duplicated; servers crash (at any point), restart, " +
				"are cut off and reconnected, and links are cut one way, at random",
			Drop: 0.1, Duplicate: 0.02, MaxDelay: 27000, FaultEvery: 350e3,
			ServiceLag: 2000, ServiceStall: 0.02,
			act: actChurn,
		},
		{
			Name: "reorder",
			Doc: "churn's faults on a network that reorders everything: 5% of messages lost, 5% duplicated, " +
				"30% of requests and replies held back 200 ms to 2.2 s; services stall often and snapshot every 10 commands",
			Drop: 0.05, Duplicate: 0.05, MaxDelay: 27000, LongDelay: 0.3, LongDelayRequests: true, FaultEvery: 350e3,
			ServiceLag: 2000, ServiceStall: 0.05, SnapshotEvery: 10,
			act: actChurn,
		},
	} {
		schedules[sc.Name] = sc
	}
}

// ScheduleNames lists the schedules, sorted.
func ScheduleNames() []string {
	names := make([]string, 0, len(schedules))
	for n := range schedules {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// ScheduleDoc says what the schedule name does ("" if there is none).
func ScheduleDoc(name string) string {
	if sc, ok := schedules[name]; ok {
		return sc.Doc
	}
	return ""
}

func lookup(name string) (*schedule, error) {
	sc, ok := schedules[name]
	if !ok {
		return nil, fmt.Errorf("unknown schedule %q (known: %s)", name, strings.Join(ScheduleNames(), ", "))
	}
	return sc, nil
}

func actFigure8(s *Sim) {
	if l := s.leader(); l >= 0 && s.rng.IntN(2) == 0 {
		s.crash(l, s.rng.IntN(2) == 0)
	}
	if s.up() < s.majority() {
		s.restart(s.pick(func(i int) bool { return s.nodes[i].down }))
	}
}

func actFigure8Unreliable(s *Sim) {
	if l := s.leader(); l >= 0 && s.rng.IntN(2) == 0 {
		s.isolate(l)
	}
	if s.connected() < s.majority() {
		s.reconnect(s.pick(func(i int) bool { return s.isolated(i) }))
	}
}

func actChurn(s *Sim) {
	switch k := s.rng.IntN(100); {
	case k < 20:
		s.isolate(s.pick(func(i int) bool { return !s.isolated(i) }))
	case k < 50:
		s.reconnect(s.pick(s.isolated))
	case k < 60:
		a, b := s.rng.IntN(s.n), s.rng.IntN(s.n)
		if a != b {
			s.cutLink(a, b)
		}
	case k < 75:
		s.crash(s.pick(func(i int) bool { return !s.nodes[i].down }), s.rng.IntN(2) == 0)
	default:
		s.restart(s.pick(func(i int) bool { return s.nodes[i].down }))
	}
}
