package sim

// The event queue: a binary heap ordered by virtual time, then by the
// order of scheduling (seq), so that two events at one instant always run
// in the same order. Messages in flight live in a slab (msgs) and events
// refer to them by index, so the heap moves small values.

type evKind uint8

const (
	evTick        evKind = iota // node ticks
	evDeliver                   // a message arrives at msg.To
	evUnreachable               // a request of node (incarnation inc) to peer failed
	evClient                    // a client proposes a command
	evFault                     // the schedule acts
	evRestart                   // node restarts from its stable storage
	evCrashNow                  // fallback of a crash planned at a flush point
	evService                   // node's service takes what it was handed
	evHeal                      // the fault phase ends
	evDeadline                  // the liveness bound expires
)

type event struct {
	at   int64 // virtual time, µs
	seq  uint64
	kind evKind
	node int
	peer int
	inc  int // the incarnation of node the event belongs to
	msg  int // index into the slab, for evDeliver
}

type queue struct {
	h   []event
	seq uint64
}

func (q *queue) less(i, j int) bool {
	a, b := &q.h[i], &q.h[j]
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.h = append(q.h, e)
	for i := len(q.h) - 1; i > 0; {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.h[i], q.h[p] = q.h[p], q.h[i]
		i = p
	}
}

func (q *queue) pop() event {
	top := q.h[0]
	last := len(q.h) - 1
	q.h[0] = q.h[last]
	q.h = q.h[:last]
	for i := 0; ; {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			break
		}
		q.h[i], q.h[m] = q.h[m], q.h[i]
		i = m
	}
	return top
}

func (q *queue) len() int { return len(q.h) }
