package mc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// Options bound a run. The zero value means: all cores, no limits, no
// progress output.
type Options struct {
	Workers   int           // goroutines expanding states; 0 = GOMAXPROCS
	MaxStates int64         // stop after this many distinct states; 0 = no limit
	MaxDepth  int           // do not expand states at this depth; 0 = no limit
	Timeout   time.Duration // stop after this long; 0 = no limit

	// Progress, if not nil, gets a line every ProgressEvery (default 2 s):
	// depth, distinct states, queue length, distinct states per second.
	Progress      io.Writer
	ProgressEvery time.Duration

	// SizeHint is the expected number of distinct states; it presizes the
	// fingerprint set. 0 = start small and grow.
	SizeHint int

	_ struct{} // disallow positional literals, for extensibility
}

// Result is the outcome of a run.
type Result[S, A any] struct {
	Distinct  int64         // distinct states found (after symmetry reduction)
	Generated int64         // successor states computed, seen or not (TLC's "states generated")
	Depth     int           // depth of the deepest state expanded (of the violating state, if any); initial states are at depth 0
	Elapsed   time.Duration // wall time of the search
	Workers   int           // goroutines that expanded states
	Complete  bool          // every reachable state within the bounds was explored
	Stopped   string        // why an incomplete search stopped: "violation", "max states", "max depth", "timeout"
	Violation *Violation[S, A]
}

// PerSecond is the number of distinct states found per second of wall time.
func (r *Result[S, A]) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Distinct) / r.Elapsed.Seconds()
}

// segment size: large enough to amortise hand-offs between workers, small
// enough that both workers stay busy on narrow levels.
const segSize = 64 << 10

// A record in a segment is: fingerprint (8 bytes), encoding length (2
// bytes), encoding.
const recHeader = 10

type found struct {
	err      error
	parentFP uint64 // for a step violation: the state the step left
	fp       uint64 // the violating state (or the step's target)
	step     bool
}

type checker[S, A any] struct {
	m    Model[S, A]
	opt  Options
	seen *fpSet

	distinct  atomic.Int64
	generated atomic.Int64
	queued    atomic.Int64 // states in the current frontier not yet expanded, plus the next one
	depth     atomic.Int64
	stop      atomic.Bool
	stopWhy   atomic.Value // string

	mu       sync.Mutex
	next     [][]byte // segments of the next level
	viol     *found
	modelErr error
}

// Run explores m breadth-first within opt's limits. It returns an error
// only when the model fails (a bound it cannot represent, a bad initial
// state); a broken property is a Result with a Violation.
func Run[S, A any](m Model[S, A], opt Options) (*Result[S, A], error) {
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.ProgressEvery <= 0 {
		opt.ProgressEvery = 2 * time.Second
	}
	if opt.MaxStates < 0 || opt.MaxDepth < 0 || opt.Timeout < 0 {
		return nil, errors.New("mc: negative limit")
	}
	c := &checker[S, A]{m: m, opt: opt, seen: newFPSet(opt.SizeHint)}
	start := time.Now()
	res := &Result[S, A]{}

	done := make(chan struct{})
	var progress sync.WaitGroup
	if opt.Progress != nil {
		progress.Add(1)
		go func() {
			defer progress.Done()
			c.report(start, done)
		}()
	}
	err := c.search(start)
	close(done)
	progress.Wait()
	if err != nil {
		return nil, err
	}

	res.Distinct = c.distinct.Load()
	res.Generated = c.generated.Load()
	res.Depth = int(c.depth.Load())
	res.Elapsed = time.Since(start)
	res.Workers = opt.Workers
	if why, _ := c.stopWhy.Load().(string); why != "" {
		res.Stopped = why
	} else {
		res.Complete = true
	}
	if c.viol != nil {
		v, err := c.rebuild(c.viol)
		if err != nil {
			return nil, err
		}
		res.Violation = v
		res.Depth = len(v.Trace) - 1 // the violating state's depth
	}
	return res, nil
}

func (c *checker[S, A]) halt(why string) {
	c.stopWhy.CompareAndSwap(nil, why)
	c.stop.Store(true)
}

func (c *checker[S, A]) search(start time.Time) error {
	w := c.m.NewWorker()
	inits, err := c.m.Init()
	if err != nil {
		return err
	}
	var buf, seg []byte
	for i := range inits {
		buf = w.Encode(buf[:0], &inits[i])
		if len(buf) > 0xffff {
			return fmt.Errorf("mc: state encoding of %d bytes exceeds 65535", len(buf))
		}
		fp := Fingerprint(buf)
		if !c.seen.insert(fp, 0) {
			continue
		}
		c.distinct.Add(1)
		if err := w.Check(&inits[i]); err != nil {
			c.viol = &found{err: err, fp: fp}
			c.halt("violation")
			return nil
		}
		seg = appendRecord(seg, fp, buf)
	}
	frontier := [][]byte{seg}
	c.queued.Store(c.distinct.Load())

	for depth := 0; ; depth++ {
		if len(frontier) == 0 || len(frontier) == 1 && len(frontier[0]) == 0 {
			return nil
		}
		c.depth.Store(int64(depth))
		if c.opt.MaxDepth > 0 && depth >= c.opt.MaxDepth {
			c.halt("max depth")
			return nil
		}
		var next atomic.Int64
		var wg sync.WaitGroup
		for k := 0; k < c.opt.Workers; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.work(frontier, &next, start)
			}()
		}
		wg.Wait()
		if c.modelErr != nil {
			return c.modelErr
		}
		if c.stop.Load() {
			return nil
		}
		frontier, c.next = c.next, nil
	}
}

// work expands segments of the frontier until none is left.
func (c *checker[S, A]) work(frontier [][]byte, next *atomic.Int64, start time.Time) {
	w := c.m.NewWorker()
	var (
		cur   S
		curFP uint64
		enc   []byte
		out   []byte
		gen   int64
		dist  int64
	)
	flush := func() {
		c.generated.Add(gen)
		c.distinct.Add(dist)
		c.queued.Add(dist)
		gen, dist = 0, 0
	}
	yield := func(a A, s *S) {
		if c.stop.Load() {
			return
		}
		gen++
		enc = w.Encode(enc[:0], s)
		fp := Fingerprint(enc)
		if err := w.CheckStep(&cur, a, s); err != nil {
			c.found(&found{err: err, parentFP: curFP, fp: fp, step: true})
			return
		}
		if !c.seen.insert(fp, curFP) {
			return
		}
		dist++
		if err := w.Check(s); err != nil {
			c.found(&found{err: err, fp: fp})
			return
		}
		if len(enc) > 0xffff {
			c.fail(fmt.Errorf("mc: state encoding of %d bytes exceeds 65535", len(enc)))
			return
		}
		out = appendRecord(out, fp, enc)
		if len(out) >= segSize {
			c.mu.Lock()
			c.next = append(c.next, out)
			c.mu.Unlock()
			out = make([]byte, 0, segSize+segSize/4)
		}
	}
	for !c.stop.Load() {
		i := int(next.Add(1)) - 1
		if i >= len(frontier) {
			break
		}
		seg := frontier[i]
		frontier[i] = nil // let the level's memory go as it is consumed
		for off := 0; off < len(seg) && !c.stop.Load(); {
			curFP = binary.LittleEndian.Uint64(seg[off:])
			n := int(binary.LittleEndian.Uint16(seg[off+8:]))
			rec := seg[off+recHeader : off+recHeader+n]
			off += recHeader + n
			if err := w.Decode(rec, &cur); err != nil {
				c.fail(err)
				return
			}
			if err := w.Next(&cur, yield); err != nil {
				c.fail(err)
				return
			}
			c.queued.Add(-1)
		}
		flush()
		if c.opt.MaxStates > 0 && c.distinct.Load() >= c.opt.MaxStates {
			c.halt("max states")
		}
		if c.opt.Timeout > 0 && time.Since(start) >= c.opt.Timeout {
			c.halt("timeout")
		}
	}
	flush()
	if len(out) > 0 {
		c.mu.Lock()
		c.next = append(c.next, out)
		c.mu.Unlock()
	}
}

func appendRecord(dst []byte, fp uint64, enc []byte) []byte {
	dst = binary.LittleEndian.AppendUint64(dst, fp)
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(enc)))
	return append(dst, enc...)
}

// found records the first violation and stops the search. Every violation
// found during one level is at the same depth, so whichever comes first is
// a shortest one; with more than one worker, which one that is may vary
// from run to run.
func (c *checker[S, A]) found(f *found) {
	c.mu.Lock()
	if c.viol == nil {
		c.viol = f
	}
	c.mu.Unlock()
	c.halt("violation")
}

func (c *checker[S, A]) fail(err error) {
	c.mu.Lock()
	if c.modelErr == nil {
		c.modelErr = err
	}
	c.mu.Unlock()
	c.halt("model error")
}

func (c *checker[S, A]) report(start time.Time, done <-chan struct{}) {
	t := time.NewTicker(c.opt.ProgressEvery)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case <-t.C:
			el := time.Since(start)
			d := c.distinct.Load()
			fmt.Fprintf(c.opt.Progress, "mc: %5.1fs depth %d, %d distinct states, queue %d, %.0f states/s\n",
				el.Seconds(), c.depth.Load(), d, c.queued.Load(), float64(d)/el.Seconds())
		}
	}
}
