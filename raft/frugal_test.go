package raft

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The frugal rules of docs/guide.md, each against the core: every test
// fails without its rule. The lab-style scenarios measure what they save
// (TestRPCsByCause).

// F1: a heartbeat goes only to a follower that heard nothing from the
// leader for a heartbeat interval; an AppendEntries sent for a command is
// a heartbeat too.
func TestHeartbeatSkipsRecentAppend(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	cn.beat(l)
	cn.tick(l.id)
	cn.ns[l.id].Propose("x") // an AppendEntries to each follower, one tick into the interval
	cn.flush()
	before := cn.sent
	for range l.cfg.HeartbeatTicks - 1 {
		cn.tick(l.id)
		cn.flush()
	}
	require.Equal(t, before, cn.sent, "no heartbeat within an interval of the last AppendEntries")
	cn.tick(l.id)
	cn.flush()
	require.Equal(t, before+4, cn.sent, "one heartbeat (and its reply) to each follower an interval after it")
}

// F2: a follower that owes the leader a reply and has been silent for an
// election timeout is presumed down, and gets one request per probe
// interval instead of one per heartbeat interval; the others are not held
// back, and the probe interval is shorter than an election timeout, so a
// follower that is only slow to answer is never starved into an election.
func TestProbePresumedDown(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	cn.beat(l)
	cn.cut[2] = true // n2 crashes: what is sent to it is lost, and no failure is reported
	clear(cn.to)
	const ticks = 100
	for range ticks {
		cn.tick(l.id)
		cn.flush()
	}
	hb, et := l.cfg.HeartbeatTicks, l.cfg.ElectionTicks
	require.Equal(t, ticks/hb, cn.to[1], "n1 answers: a heartbeat every interval")
	require.Greater(t, l.probeTicks(), hb)
	require.LessOrEqual(t, cn.to[2], et/hb+1+ticks/l.probeTicks(), "n2 is presumed down after an election timeout, then probed")
	require.Less(t, l.probeTicks(), et, "probes come more often than an election timeout")
	// Reference: section 5.2 (heartbeats prevent election timeouts)
}

// F2: a node cut off from a majority (every peer presumed down) probes
// far less often: a leader left alone by a partition sends almost nothing.
func TestProbeCutOff(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	cn.beat(l)
	cn.cut[0] = true
	clear(cn.to)
	const ticks = 300
	for range ticks {
		cn.tick(l.id)
		cn.flush()
	}
	require.Equal(t, leader, l.role)
	require.LessOrEqual(t, cn.to[1]+cn.to[2], 2*(l.cfg.ElectionTicks/l.cfg.HeartbeatTicks+ticks/l.probeTicks()+1))
	require.Less(t, cn.to[1]+cn.to[2], 2*ticks/l.cfg.HeartbeatTicks/3, "a third of the heartbeats at most")
}

// F3: after a request to a follower fails, the leader's next heartbeat to
// it waits a full interval from the failure.
func TestNoHeartbeatRightAfterFailure(t *testing.T) {
	cn := newCoreNet(t, 3)
	l := cn.elect(0)
	cn.beat(l)
	for range l.cfg.HeartbeatTicks - 1 {
		cn.tick(l.id)
		cn.flush()
	}
	cn.ns[l.id].Unreachable(1) // the last AppendEntries to n1 failed
	clear(cn.to)
	cn.tick(l.id) // n2's heartbeat is due; n1's is not
	cn.flush()
	require.Equal(t, map[int]int{2: 1}, cn.to)
	for range l.cfg.HeartbeatTicks - 1 {
		cn.tick(l.id)
		cn.flush()
	}
	require.Equal(t, 1, cn.to[1], "n1's heartbeat one interval after the failure")
}

// F4: a candidate does not ask for the vote of the leader whose silence
// started the election, when the others can make a majority; when they
// cannot, it asks every peer.
func TestCandidateSkipsSilentLeader(t *testing.T) {
	cn := newCoreNet(t, 3)
	cn.beat(cn.elect(0))
	cn.cut[0] = true // the leader crashes
	f := cn.nodes[1]
	for f.role == follower {
		f.Tick()
	}
	rd := f.Ready()
	require.Len(t, rd.Messages, 1)
	require.Equal(t, MsgRequestVote, rd.Messages[0].Kind)
	require.Equal(t, 2, rd.Messages[0].To, "n0 fell silent: only n2 is asked")

	// n2 does not answer either: alone, n1 asks everyone.
	for f.role == candidate && f.pending[2] > 0 {
		f.Tick()
		if f.currentTerm > 2 {
			break
		}
	}
	require.True(t, f.down(2) && f.down(0))
	require.Equal(t, 3, f.currentTerm)
	rd = f.Ready()
	require.Len(t, rd.Messages, 2, "no majority without the peers presumed down: ask them")
	// Reference: section 5.2
}

// F5: a new leader's first heartbeat goes at once only to the servers
// that did not vote for it; a voter restarted its election timer when it
// granted the vote, and hears from the leader within a heartbeat interval.
func TestNoInitialHeartbeatToVoters(t *testing.T) {
	cn := newCoreNet(t, 3)
	l, n1, n2 := cn.nodes[0], cn.nodes[1], cn.nodes[2]
	n2.currentTerm = 1
	n2.log.append(Entry{Term: 1}) // n2 refuses: its log is more up-to-date
	for l.role == follower {
		l.Tick()
	}
	votes := l.Ready().Messages
	require.NoError(t, n2.Step(votes[1]))
	require.NoError(t, l.Step(n2.Ready().Messages[0]))
	require.NoError(t, n1.Step(votes[0]))
	require.NoError(t, l.Step(n1.Ready().Messages[0]))
	require.Equal(t, leader, l.role)
	rd := l.Ready()
	require.Len(t, rd.Messages, 1)
	require.Equal(t, 2, rd.Messages[0].To, "the heartbeat goes to n2, which did not vote")
	for range l.cfg.HeartbeatTicks {
		l.Tick()
	}
	require.Contains(t, l.Ready().Messages, l.msgTo(1), "n1 hears within an interval")
	require.Less(t, l.cfg.HeartbeatTicks, l.cfg.ElectionTicks)
	// Reference: Figure 2, Rules for Servers, Leaders
}

// msgTo is the AppendEntries r would send peer p now (for comparison).
func (r *node) msgTo(p int) Message {
	prevTerm, _ := r.log.term(r.nextIndex[p] - 1)
	return Message{Kind: MsgAppendEntries, From: r.id, To: p, Term: r.currentTerm, PrevLogIndex: r.nextIndex[p] - 1,
		PrevLogTerm: prevTerm, Entries: r.log.from(r.nextIndex[p]), LeaderCommit: r.commitIndex, cause: CauseHeartbeat}
}

// F6: a node restarted from persisted state waits one more election
// timeout before it campaigns, so that a live leader can reach it first.
func TestRestartWaitsLonger(t *testing.T) {
	cfg := Config{ID: 1, Peers: 3, ElectionTicks: 10, HeartbeatTicks: 3, Rand: func(n int) int { return n - 1 }}
	fresh := newNode(cfg, persistentState{VotedFor: None}, nil)
	require.Less(t, fresh.electionTimeout, 2*cfg.ElectionTicks)
	restarted := newNode(cfg, persistentState{Term: 5, VotedFor: None}, nil)
	require.GreaterOrEqual(t, restarted.electionTimeout, 2*cfg.ElectionTicks)
}
