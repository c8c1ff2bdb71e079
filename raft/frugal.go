package raft

// Rules that save RPCs. They are not Figure 2's: they decide only whether
// a request is worth sending now, never what a request says or how one is
// handled, so no property depends on them (the network may lose any
// message anyway). docs/guide.md explains each, F1–F5.

// down says whether peer p is presumed crashed or cut off: it has been
// silent for an election timeout while it owed this node a reply, or
// while it was the leader this node followed (its silence is what starts
// an election). Anything heard from p clears it.
func (r *node) down(p int) bool {
	return r.silent[p] >= r.cfg.ElectionTicks && (r.pending[p] > 0 || p == r.lead)
}

// mayProbe says whether a request to peer p is worth sending now: to a
// peer presumed down, one request at a time, or one per probeTicks if
// that one is still unanswered (F2). Every request to a crashed or cut-off
// peer is lost; one is enough to find out when it is back.
func (r *node) mayProbe(p int) bool {
	return !r.down(p) || r.pending[p] == 0 || r.asked[p] >= r.probeTicks()
}

// probeTicks is how often a peer presumed down is asked while an earlier
// request to it is unanswered (which, in the lab's network, can take 7 s
// to fail). While the peers not presumed down make a majority, often
// enough that a follower that is only slow to answer never reaches its
// election timeout; a node cut off from a majority asks far less often.
func (r *node) probeTicks() int {
	if r.quorumUp() {
		return r.cfg.ElectionTicks - r.cfg.HeartbeatTicks
	}
	return 3 * r.cfg.ElectionTicks
}

// quorumUp says whether the peers not presumed down, with this node, make
// a majority.
func (r *node) quorumUp() bool {
	k := 1
	for p := range r.n {
		if p != r.id && !r.down(p) {
			k++
		}
	}
	return 2*k > r.n
}

// heard records that a message came from peer p: it is up; and if the
// message is a reply, one request to p is answered.
func (r *node) heard(m *Message) {
	r.silent[m.From] = 0
	if m.Kind.isReply() && r.pending[m.From] > 0 {
		r.pending[m.From]--
	}
}

// unreachable records that a request to peer p failed: no reply came. A
// leader sends p the next AppendEntries with its heartbeat, one interval
// from now, not at once (F3).
func (r *node) unreachable(p int) {
	if p < 0 || p >= r.n || p == r.id {
		return
	}
	if r.pending[p] > 0 {
		r.pending[p]--
	}
	if r.role == leader {
		r.inflight[p] = false
		r.heartbeatElapsed[p] = 0
	}
}
