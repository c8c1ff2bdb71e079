package sim

// The faults the schedules deal: crashes (at once, or planned for the
// next save), restarts, and the end of the fault phase (heal).

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

func (s *Sim) up() int {
	k := 0
	for _, nd := range s.nodes {
		if !nd.down {
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
