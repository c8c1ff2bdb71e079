package sim

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/raftspec/raftspec/raft"
)

// seedsPerSchedule is how many seeds the tests below run of each schedule:
// fewer under the race detector, which slows the simulator tenfold.
func seedsPerSchedule() uint64 {
	if raceOn || testing.Short() {
		return 10
	}
	return 100
}

// A run is a function of its options: the same seed gives the same event
// log, byte for byte, and other seeds give other logs.
func TestDeterministic(t *testing.T) {
	for _, sc := range ScheduleNames() {
		logs := map[string]uint64{}
		for seed := uint64(1); seed <= seedsPerSchedule()/2; seed++ {
			o := Options{Seed: seed, Schedule: sc, Duration: 10 * time.Second}
			var a, b bytes.Buffer
			o.Log = &a
			ra, err := Run(o)
			if err != nil {
				t.Fatal(err)
			}
			o.Log = &b
			rb, _ := Run(o)
			if !bytes.Equal(a.Bytes(), b.Bytes()) {
				t.Fatalf("%s seed %d: two runs gave different event logs (%d and %d bytes); first difference at line %d",
					sc, seed, a.Len(), b.Len(), firstDiff(a.String(), b.String()))
			}
			if ra.Events != rb.Events || ra.Virtual != rb.Virtual || a.Len() == 0 {
				t.Fatalf("%s seed %d: results differ or the log is empty: %+v, %+v", sc, seed, ra, rb)
			}
			if other, dup := logs[a.String()]; dup {
				t.Fatalf("%s: seeds %d and %d gave the same log", sc, other, seed)
			}
			logs[a.String()] = seed
		}
	}
}

func firstDiff(a, b string) int {
	la, lb := strings.Split(a, "\n"), strings.Split(b, "\n")
	for i := range min(len(la), len(lb)) {
		if la[i] != lb[i] {
			return i + 1
		}
	}
	return min(len(la), len(lb)) + 1
}

// The reference passes every schedule, and the runs do what the schedules
// say: leaders are elected, commands commit, servers crash.
func TestReferencePassesSchedules(t *testing.T) {
	for _, sc := range ScheduleNames() {
		var commands, crashes, events, installs int
		for seed := uint64(1); seed <= seedsPerSchedule(); seed++ {
			r, err := Run(Options{Seed: seed, Schedule: sc, Duration: 20 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if r.Err != nil {
				t.Fatalf("%v", r.Err)
			}
			if r.Elected == 0 || r.Commands == 0 {
				t.Fatalf("%s seed %d: %d terms with a leader, %d commands: the run did nothing", sc, seed, r.Elected, r.Commands)
			}
			commands += r.Commands
			crashes += r.Crashes
			installs += r.Installs
			events += r.Events
		}
		if sc != "calm" && sc != "figure8unreliable" && crashes == 0 {
			t.Errorf("%s: no crash in %d seeds", sc, seedsPerSchedule())
		}
		if sc == "reorder" && installs == 0 {
			t.Errorf("%s: no service installed a snapshot from InstallSnapshot in %d seeds", sc, seedsPerSchedule())
		}
		t.Logf("%s: %d seeds, %d events, %d commands, %d crashes, %d snapshots installed", sc, seedsPerSchedule(), events, commands, crashes, installs)
	}
}

func TestBadOptions(t *testing.T) {
	for _, o := range []Options{
		{Servers: 10},
		{Servers: -1},
		{Schedule: "nosuch"},
		{Duration: -time.Second},
		{Events: -1},
	} {
		if _, err := Run(o); !errors.Is(err, ErrBadOptions) {
			t.Errorf("Run(%+v) = %v, want an ErrBadOptions", o, err)
		}
	}
	_, err := Run(Options{Schedule: "nosuch"})
	if err == nil || !strings.Contains(err.Error(), "figure8unreliable") {
		t.Errorf("an unknown schedule's error should list the known ones: %v", err)
	}
}

// forgetful is a planted bug: the node's state is never saved, so a
// restarted server forgets its term, its vote and its log (raft-bugs.md
// M14, without persistence at all).
type forgetful struct{ Core }

func (f forgetful) Ready() raft.Output {
	out := f.Core.Ready()
	out.Persist, out.Snapshot = nil, nil
	return out
}

// replayer is a planted bug: once its node has applied past a snapshot it
// saved, it hands its service that snapshot again, older than what the
// service applied (raft-bugs.md M19).
type replayer struct {
	Core
	saved []byte
	index int
	done  bool
}

func (r *replayer) Ready() raft.Output {
	out := r.Core.Ready()
	if out.Persist != nil && len(out.Snapshot) > 0 {
		if idx, _, _, err := decodeSnap(out.Snapshot); err == nil {
			r.saved, r.index = out.Snapshot, idx
		}
	}
	if !r.done && r.saved != nil && len(out.Apply) > 0 && out.Apply[len(out.Apply)-1].Index > r.index {
		r.done = true
		out.Apply = append(out.Apply, raft.Apply{IsSnapshot: true, Snapshot: r.saved, Index: r.index, Term: 1})
	}
	return out
}

// pretender is a planted bug: a node that says it leads whatever term it is
// in, so a term has two leaders.
type pretender struct{ Core }

func (u pretender) Status() raft.Status {
	st := u.Core.Status()
	st.Leader, st.Candidate = true, false
	return st
}

// lazy is a planted bug: a node that never answers a client (Propose
// always refuses), so no command is ever committed.
type lazy struct{ Core }

func (lazy) Propose(any) (int, int, bool) { return -1, 0, false }

// A planted bug is found within a few seeds, and the failure names the
// seed, the event and the command that replays it; replaying it fails the
// same way.
func TestPlantedBugsAreFound(t *testing.T) {
	for _, tc := range []struct {
		name     string
		wrap     func(int, Core) Core
		schedule string
		want     string // in the failure, in every build
	}{
		{"forgetful", func(_ int, c Core) Core { return forgetful{c} }, "figure8", "violated"}, // TermMonotonic with the hooks, StateMachineSafety without
		{"lazy", func(_ int, c Core) Core { return lazy{c} }, "calm", "Liveness"},
		{"pretender", func(id int, c Core) Core {
			if id == 1 {
				return pretender{c}
			}
			return c
		}, "calm", "ElectionSafety violated"},
		{"replayer", func(_ int, c Core) Core { return &replayer{Core: c} }, "reorder", "does not move past the applied state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var found *Failure
			seed := uint64(1)
			for ; seed <= 1000 && found == nil; seed++ {
				r, err := Run(Options{Seed: seed, Schedule: tc.schedule, Duration: 20 * time.Second, Wrap: tc.wrap})
				if err != nil {
					t.Fatal(err)
				}
				found = r.Err
			}
			if found == nil {
				t.Fatalf("not found in 1000 seeds")
			}
			t.Logf("found at seed %d: %v", found.Seed, found)
			if tc.want != "" && !strings.Contains(found.Err.Error(), tc.want) {
				t.Errorf("failure %q does not say %q", found.Err, tc.want)
			}
			msg := found.Error()
			for _, want := range []string{fmt.Sprintf("seed %d", found.Seed), "event ", "replay: ", fmt.Sprintf("-seed %d", found.Seed)} {
				if !strings.Contains(msg, want) {
					t.Errorf("failure does not say %q: %s", want, msg)
				}
			}
			var log bytes.Buffer
			again, _ := Run(Options{Seed: found.Seed, Schedule: tc.schedule, Duration: 20 * time.Second, Wrap: tc.wrap, Log: &log})
			if again.Err == nil || again.Err.Event != found.Event || again.Err.Err.Error() != found.Err.Error() {
				t.Fatalf("the replay of seed %d ended with %v, want %v", found.Seed, again.Err, found)
			}
			if again.Err.Line == "" || !strings.Contains(log.String(), again.Err.Line) {
				t.Errorf("the replay's failure names event line %q, which its log does not hold", again.Err.Line)
			}
		})
	}
}

// The service's checks: applies in order, snapshots that move it forward
// and hold what they claim, one command per index across services.
func TestServiceChecks(t *testing.T) {
	var l ledger
	cmd := func(i, c int) raft.Apply {
		return raft.Apply{Command: c, Index: i}
	}
	a := &service{}
	require := func(err error, want string) {
		t.Helper()
		if want == "" && err != nil || want != "" && (err == nil || !strings.Contains(err.Error(), want)) {
			t.Errorf("error %v, want %q", err, want)
		}
	}
	require(a.apply(0, cmd(1, 11), &l), "")
	require(a.apply(0, cmd(3, 13), &l), "ApplyOrder violated at n0 index 3: found applied index 3 after 1")
	require(a.apply(0, cmd(2, 12), &l), "")
	snap := a.snapshot()
	require(a.apply(0, cmd(3, 13), &l), "")
	require(a.apply(0, raft.Apply{IsSnapshot: true, Snapshot: snap, Index: 2}, &l), "does not move past the applied state at 3")
	require(a.apply(0, raft.Apply{IsSnapshot: true, Snapshot: snap, Index: 9}, &l), "handed out as through 9 holds the state through 2")
	require(a.apply(0, raft.Apply{IsSnapshot: true, Snapshot: []byte{1}, Index: 9}, &l), "does not decode")
	b := &service{}
	require(b.apply(1, cmd(1, 11), &l), "")
	require(b.apply(1, cmd(2, 99), &l), "StateMachineSafety violated at n1 index 2: found n1 applied command 99, want command 12, which another server applied")
	require(b.apply(1, cmd(2, 0), &l), "which no client proposed")
}

// ParseLine reads back what the logger writes, and refuses what no run
// writes (a server past MaxServers would make raftspec logs pad a line
// to gigabytes).
func TestParseLine(t *testing.T) {
	ln, err := ParseLine("     0.358537 n3 election recv RequestVote n0→n3 term 1 last 0/0")
	if err != nil || ln.Seconds != 0.358537 || ln.Node != 3 || ln.Topic != topicElection || ln.Text != "recv RequestVote n0→n3 term 1 last 0/0" {
		t.Errorf("ParseLine = %+v, %v", ln, err)
	}
	if ln, err := ParseLine("1.0\tn0\tnet\tcut  off"); err != nil || ln.Text != "cut  off" {
		t.Errorf("with tabs: %+v, %v", ln, err)
	}
	if ln, err := ParseLine("60.0 -- net heal"); err != nil || ln.Node != -1 {
		t.Errorf("the cluster's line: %+v, %v", ln, err)
	}
	for _, bad := range []string{"1.0 n99999 net x", "1.0 n-1 net x", "x n0 net y", "1.0 n0 gossip y", "1.0 n0 net", "1.0 m0 net x"} {
		if _, err := ParseLine(bad); err == nil {
			t.Errorf("ParseLine(%q) accepted it", bad)
		}
	}
}

// A done Context ends a run early, neither passed nor failed.
func TestContextStopsRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r, err := Run(Options{Seed: 1, Duration: 500 * time.Hour, Context: ctx})
	if err != nil || !r.Stopped || r.Err != nil || r.Events > 1024 {
		t.Errorf("Run with a done context = %+v, %v; want stopped within 1,024 events", r, err)
	}
}

// failingWriter fails every write after the first n bytes.
type failingWriter struct{ n int }

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.n -= len(p); w.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

// An event log that could not be written is an error of Run, not a log
// silently cut short.
func TestLogWriteErrorIsReported(t *testing.T) {
	r, err := Run(Options{Seed: 1, Duration: time.Second, Log: &failingWriter{n: 500}})
	if err == nil || !strings.Contains(err.Error(), "disk full") || r == nil {
		t.Errorf("Run with a failing log = %v, %v; want the run's Result and the write error", r, err)
	}
}
