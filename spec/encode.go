package spec

import (
	"bytes"
	"fmt"
	"math/bits"
)

// The canonical encoding of a State, from which the checker takes its
// fingerprint, and in which it keeps the states of its queue.
//
// Layout, servers in the order of a permutation ord (ord[k] is the server
// written at position k, and every server reference is renamed to the
// position of the server it names):
//
//	per server, n of them:
//	  currentTerm<<4 | len(log)
//	  state<<4 | commitIndex
//	  votedFor (7 = Nil) | votesResponded<<3
//	  votesGranted
//	  nextIndex[j] | matchIndex[j]<<4, for the n servers j
//	  term<<4 | value, for each log entry
//	the bag: its number of distinct messages, then 5 bytes per message
//	  (the packed message without its unused low bits, and its count),
//	  sorted after renaming
//	unless Config.NoHistory: LeadersIn[t] for t in 1..MaxTerm, the number
//	  of committed entries, and term<<4 | value, inTerm for each
//
// Dead variables are written as 0: votesResponded and votesGranted of a
// server that is not a candidate, nextIndex and matchIndex of one that is
// not a leader. raft.tla keeps them, but no action reads them before one
// overwrites them (Timeout resets the tallies, BecomeLeader the indexes,
// and only a candidate or a leader reads them; no property reads them).
// States that differ only in dead variables have the same futures, so
// identifying them loses no behaviour; it divides the state count by 3
// to 5. Config.FingerprintDeadVars keeps them, for comparison.
//
// Without symmetry, ord is the identity. With it, the encoding is the
// least, in byte order, over the permutations that sort the servers by
// their signature (what a server's state says without naming another
// server). For two states that differ only by a renaming of the servers,
// the sets of candidate encodings are the same, so the choice is
// canonical; since signatures tie only between servers in the same local
// state, usually a single permutation is a candidate and the encoding is
// written once.

// permScratch is a worker's scratch space for canonical encoding.
type permScratch struct {
	bag        [MaxBag]Packed
	cand, best []byte
}

// perms[k] lists the permutations of 0..k-1.
var perms [MaxServers + 1][][MaxServers]uint8

func init() {
	for k := 1; k <= MaxServers; k++ {
		var p [MaxServers]uint8
		var rec func(pos int, used uint8)
		rec = func(pos int, used uint8) {
			if pos == k {
				perms[k] = append(perms[k], p)
				return
			}
			for v := 0; v < k; v++ {
				if used&(1<<v) == 0 {
					p[pos] = uint8(v)
					rec(pos+1, used|1<<v)
				}
			}
		}
		rec(0, 0)
	}
}

var identity = [MaxServers]uint8{0, 1, 2, 3, 4}

// signature summarises server i's state without naming other servers, so
// that a renaming of the servers does not change it (nor, if dead, a
// change of its dead variables).
func signature(sv *Server, i int, dead bool) uint64 {
	vf := uint64(0) // Nil
	switch sv.VotedFor {
	case Nil:
	case uint8(i):
		vf = 1
	default:
		vf = 2
	}
	x := uint64(sv.CurrentTerm)<<60 | uint64(sv.State)<<58 | uint64(sv.LogLen)<<54 |
		uint64(sv.CommitIndex)<<50 | vf<<48 |
		uint64(bits.OnesCount8(sv.VotesResponded))<<45 | uint64(bits.OnesCount8(sv.VotesGranted))<<42
	if sv.State != Candidate && dead {
		x &^= 0x3f << 42
	}
	var l uint64
	for k := 0; k < int(sv.LogLen); k++ {
		l = l<<8 | uint64(sv.Log[k].Term)<<4 | uint64(sv.Log[k].Value)
	}
	return x | l&(1<<42-1)
}

// renameSet renames the servers of the bitmask set: bit i becomes bit inv[i].
func renameSet(set uint8, inv *[MaxServers]uint8) uint8 {
	var r uint8
	for ; set != 0; set &= set - 1 {
		r |= 1 << inv[bits.TrailingZeros8(set)]
	}
	return r
}

// Encode appends the canonical encoding of s to dst.
func (w *worker) Encode(dst []byte, s *State) []byte {
	n := w.p.n
	if !w.p.cfg.Symmetry || n == 1 {
		return w.encodePerm(dst, s, &identity)
	}
	var sig [MaxServers]uint64
	ord := identity
	for i := 0; i < n; i++ {
		sig[i] = signature(&s.Servers[i], i, !w.p.cfg.FingerprintDeadVars)
	}
	for k := 1; k < n; k++ { // insertion sort: n ≤ 5
		for j := k; j > 0 && sig[ord[j]] < sig[ord[j-1]]; j-- {
			ord[j], ord[j-1] = ord[j-1], ord[j]
		}
	}
	// Groups of servers with equal signatures: every arrangement within
	// each group is a candidate.
	type group struct{ start, size, idx int }
	var gs [MaxServers]group
	ng := 0
	for k := 0; k < n; {
		e := k + 1
		for e < n && sig[ord[e]] == sig[ord[k]] {
			e++
		}
		if e-k > 1 {
			gs[ng] = group{start: k, size: e - k}
			ng++
		}
		k = e
	}
	if ng == 0 {
		return w.encodePerm(dst, s, &ord)
	}
	ps := &w.perm
	first := true
	for {
		cand := ord
		for g := 0; g < ng; g++ {
			pr := &perms[gs[g].size][gs[g].idx]
			for k := 0; k < gs[g].size; k++ {
				cand[gs[g].start+k] = ord[gs[g].start+int(pr[k])]
			}
		}
		ps.cand = w.encodePerm(ps.cand[:0], s, &cand)
		if first || bytes.Compare(ps.cand, ps.best) < 0 {
			ps.best, ps.cand = ps.cand, ps.best
			first = false
		}
		g := 0
		for ; g < ng; g++ { // next arrangement, as an odometer
			gs[g].idx++
			if gs[g].idx < len(perms[gs[g].size]) {
				break
			}
			gs[g].idx = 0
		}
		if g == ng {
			break
		}
	}
	return append(dst, ps.best...)
}

// encodePerm appends the encoding of s with its servers in the order ord.
func (w *worker) encodePerm(dst []byte, s *State, ord *[MaxServers]uint8) []byte {
	n := w.p.n
	dead := !w.p.cfg.FingerprintDeadVars
	var inv [MaxServers]uint8
	ident := true
	for k := 0; k < n; k++ {
		inv[ord[k]] = uint8(k)
		ident = ident && ord[k] == uint8(k)
	}
	for k := 0; k < n; k++ {
		sv := &s.Servers[ord[k]]
		vf := uint8(7)
		if sv.VotedFor != Nil {
			vf = inv[sv.VotedFor]
		}
		resp, granted := sv.VotesResponded, sv.VotesGranted
		if sv.State != Candidate && dead {
			resp, granted = 0, 0
		}
		dst = append(dst,
			sv.CurrentTerm<<4|sv.LogLen,
			uint8(sv.State)<<4|sv.CommitIndex,
			vf|renameSet(resp, &inv)<<3,
			renameSet(granted, &inv))
		for c := 0; c < n; c++ {
			o := ord[c]
			if sv.State != Leader && dead {
				dst = append(dst, 0)
				continue
			}
			dst = append(dst, sv.NextIndex[o]|sv.MatchIndex[o]<<4)
		}
		for e := 0; e < int(sv.LogLen); e++ {
			dst = append(dst, sv.Log[e].Term<<4|sv.Log[e].Value)
		}
	}
	dst = append(dst, s.NMsgs)
	msgs := s.Msgs[:s.NMsgs]
	if !ident {
		b := w.perm.bag[:s.NMsgs]
		for k, m := range msgs {
			b[k] = m.withEnds(inv[m.Src()], inv[m.Dst()])
		}
		sortBag(b)
		msgs = b
	}
	for _, m := range msgs {
		v := uint64(m>>29)<<4 | uint64(m&countMask)
		dst = append(dst, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32))
	}
	if !w.p.cfg.NoHistory {
		for t := 1; t <= w.p.cfg.MaxTerm; t++ {
			dst = append(dst, renameSet(s.LeadersIn[t], &inv))
		}
		dst = append(dst, s.NCommitted)
		for k := 0; k < int(s.NCommitted); k++ {
			c := &s.Committed[k]
			dst = append(dst, c.Term<<4|c.Value, c.InTerm)
		}
	}
	return dst
}

// Decode reads back an encoding written by Encode: the canonical
// representative, whose servers may be a renaming of those encoded.
func (w *worker) Decode(src []byte, s *State) error {
	*s = State{}
	n := w.p.n
	b := src
	short := func() error { return fmt.Errorf("spec: state encoding of %d bytes is truncated", len(src)) }
	for i := 0; i < n; i++ {
		if len(b) < 4+n {
			return short()
		}
		sv := &s.Servers[i]
		sv.CurrentTerm, sv.LogLen = b[0]>>4, b[0]&0xf
		sv.State, sv.CommitIndex = Role(b[1]>>4), b[1]&0xf
		sv.VotedFor = b[2] & 7
		if sv.VotedFor == 7 {
			sv.VotedFor = Nil
		}
		sv.VotesResponded, sv.VotesGranted = b[2]>>3, b[3]
		b = b[4:]
		for j := 0; j < n; j++ {
			sv.NextIndex[j], sv.MatchIndex[j] = b[j]&0xf, b[j]>>4
		}
		b = b[n:]
		if sv.LogLen > MaxLog || len(b) < int(sv.LogLen) {
			return short()
		}
		for e := 0; e < int(sv.LogLen); e++ {
			sv.Log[e] = Entry{Term: b[e] >> 4, Value: b[e] & 0xf}
		}
		b = b[sv.LogLen:]
	}
	if len(b) < 1 || b[0] > MaxBag || len(b) < 1+5*int(b[0]) {
		return short()
	}
	s.NMsgs = b[0]
	b = b[1:]
	for k := 0; k < int(s.NMsgs); k++ {
		v := uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 | uint64(b[4])<<32
		s.Msgs[k] = Packed(v>>4)<<29 | Packed(v&countMask)
		b = b[5:]
	}
	if !w.p.cfg.NoHistory {
		mt := w.p.cfg.MaxTerm
		if len(b) < mt+1 {
			return short()
		}
		for t := 1; t <= mt; t++ {
			s.LeadersIn[t] = b[t-1]
		}
		b = b[mt:]
		s.NCommitted = b[0]
		b = b[1:]
		if s.NCommitted > MaxLog || len(b) < 2*int(s.NCommitted) {
			return short()
		}
		for k := 0; k < int(s.NCommitted); k++ {
			s.Committed[k] = CommittedEntry{Entry: Entry{Term: b[0] >> 4, Value: b[0] & 0xf}, InTerm: b[1]}
			b = b[2:]
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("spec: state encoding has %d bytes left over", len(b))
	}
	return nil
}
