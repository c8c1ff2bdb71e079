package sim

import (
	"strconv"

	"github.com/raftspec/raftspec/raft"
)

// The network: messages in flight, lost, duplicated, delayed and
// reordered as the schedule says; servers cut off, links cut one way.

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

func (s *Sim) connected() int {
	k := 0
	for _, c := range s.iso {
		if !c {
			k++
		}
	}
	return k
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
		why := "lost: cut off"
		if nd.down && s.log.w != nil { // formatted only for a log
			why = "lost: n" + strconv.Itoa(m.To) + " is down"
		}
		s.lose(&m, why)
		return
	}
	s.input(m.To, topicOf(m.Kind), "recv", &m, func(c Core) error { return c.Step(m) })
}
