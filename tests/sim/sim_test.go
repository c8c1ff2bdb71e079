package sim

import (
	"bytes"
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
		var commands, crashes, events int
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
			events += r.Events
		}
		if (sc == "figure8" || sc == "churn") && crashes == 0 {
			t.Errorf("%s: no crash in %d seeds", sc, seedsPerSchedule())
		}
		t.Logf("%s: %d seeds, %d events, %d commands, %d crashes", sc, seedsPerSchedule(), events, commands, crashes)
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
		if _, err := Run(o); err == nil {
			t.Errorf("Run(%+v) = nil error, want one", o)
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
	out.State, out.Snapshot = nil, nil
	return out
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
		want     string // in every build; with -tags invariants an invariant may fire first
	}{
		{"forgetful", func(_ int, c Core) Core { return forgetful{c} }, "figure8", ""},
		{"lazy", func(_ int, c Core) Core { return lazy{c} }, "calm", "Liveness"},
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
			for _, want := range []string{"seed " + itoa(int(found.Seed)), "event ", "replay: ", "-seed " + itoa(int(found.Seed))} {
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
