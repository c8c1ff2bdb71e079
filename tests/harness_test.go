package tests

import (
	"io"
	"regexp"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/raftspec/raftspec/raftapi"
	"os"
	"os/exec"
	"strings"
	"testing"
	"testing/synctest"
)

// withFakeCluster runs f against a 3-server cluster of a fakeWorld set up
// by plant, in virtual time, with failures recorded in rec instead of
// failing the test.
func withFakeCluster(t *testing.T, plant func(w *fakeWorld), f func(c *Cluster, rec *recTB)) {
	synctest.Test(t, func(t *testing.T) {
		rec := &recTB{TB: t}
		w := newFakeWorld()
		plant(w)
		c := NewCluster(rec, w.make, 3, ClusterOptions{})
		onGoroutine(func() { f(c, rec) })
		onGoroutine(func() { c.end("fake", io.Discard) })
		if w.leakUntil != nil {
			close(w.leakUntil)
		}
	})
}

func wantFailure(t *testing.T, rec *recTB, want ...string) {
	t.Helper()
	got := rec.text()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("recorded failures:\n%s\nwant them to contain %q", got, w)
		}
	}
}

func TestFakeClusterPasses(t *testing.T) {
	// The fake itself is sound: without a planted bug, no failure.
	withFakeCluster(t, func(*fakeWorld) {}, func(c *Cluster, rec *recTB) {
		c.CheckOneLeader()
		c.One(100, 3, false)
		c.One(200, 3, false)
		if got := rec.text(); got != "" {
			t.Errorf("sound fake: recorded %q, want nothing", got)
		}
	})
}

// The lab allows Kill to close applyCh (appliers range over it): the
// harness's applier must end, not spin on the closed channel and stop
// virtual time (the scenario would then hang until the watchdog).
func TestClosedApplyChIsAllowed(t *testing.T) {
	withFakeCluster(t, func(w *fakeWorld) { w.closeCh = true }, func(c *Cluster, rec *recTB) {
		c.One(100, 3, false)
		c.Crash(1)
		c.Restart(1)
		c.One(200, 3, false)
		if got := rec.text(); got != "" {
			t.Errorf("recorded %q, want nothing", got)
		}
	})
}

func TestApplyCheckerCatchesWrongCommand(t *testing.T) {
	withFakeCluster(t, func(w *fakeWorld) { w.corruptAt = 2 }, func(c *Cluster, rec *recTB) {
		c.One(100, 3, false)
		t.Error("One returned despite a server applying a different command")
	})
}

func TestApplyCheckerWrongCommandMessage(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.corruptAt = 2 }, func(c *Cluster, r *recTB) {
		rec = r
		c.One(100, 3, false)
	})
	wantFailure(t, rec, "apply error: commit index=1 server=", "101", "100")
}

func TestApplyCheckerCatchesGap(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.skipIndex = 2 }, func(c *Cluster, r *recTB) {
		rec = r
		c.One(100, 3, false)
		c.One(200, 3, false)
	})
	wantFailure(t, rec, "apply out of order 3 (want index 2)")
}

func TestCheckOneLeaderCatchesTwoLeaders(t *testing.T) {
	withFakeCluster(t, func(w *fakeWorld) { w.allLead = true }, func(c *Cluster, rec *recTB) {
		_, err := c.checkOneLeader()
		if err == nil || !strings.Contains(err.Error(), "term 1 has 3 (>1) leaders") {
			t.Errorf("checkOneLeader() = %v, want term 1 has 3 (>1) leaders", err)
		}
		c.CheckOneLeader()
		t.Error("CheckOneLeader returned despite two leaders in one term")
	})
}

func TestCheckOneLeaderCatchesNone(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.noLeader = true }, func(c *Cluster, r *recTB) {
		rec = r
		c.CheckOneLeader()
	})
	wantFailure(t, rec, "expected one leader, got none")
}

func TestCheckNoLeaderCatchesLeader(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(*fakeWorld) {}, func(c *Cluster, r *recTB) {
		rec = r
		c.CheckNoLeader()
	})
	wantFailure(t, rec, "expected no leader among connected servers, but 0 claims to be leader")
}

func TestLeakAfterKillIsNamed(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.leak = true }, func(c *Cluster, r *recTB) {
		rec = r
		c.CheckOneLeader()
	})
	// The report names the failure and the leaking function.
	wantFailure(t, rec, "goroutine leak after Kill", "fakeWorld).make.func1")
}

// TestLeakFailsScenarioNotBinary runs a leaking implementation through
// RunScenario in a child process: the scenario must fail with the named
// failure, and the test binary must not die of synctest's deadlock panic.
func TestLeakFailsScenarioNotBinary(t *testing.T) {
	if os.Getenv("RAFTSPEC_LEAK_CHILD") == "1" {
		w := newFakeWorld()
		w.leak = true // never released
		s := Scenario{Name: "Leaky", Part: "X", Servers: 3, Run: func(c *Cluster) { c.CheckOneLeader() }}
		RunScenario(t, s, w.make, &Options{Summary: os.Stdout})
		t.Log("child: after RunScenario")
		return
	}
	// The summary says LEAK: the checks passed, but Kill left goroutines.
	out := failingChild(t, "RAFTSPEC_LEAK_CHILD", "goroutine leak after Kill", "fakeWorld).make.func1", "child: after RunScenario", "--- FAIL: TestLeakFailsScenarioNotBinary", "... LEAK -- LeakyX")
	if strings.Contains(out, "panic:") {
		t.Errorf("child panicked:\n%s", out)
	}
}

// On the wall clock there is no bubble to tell the scenario's goroutines
// from others': the leak check compares with the goroutines that existed
// before the scenario. (It takes the 10 s drain of real time.)
func TestLeakOnWallClock(t *testing.T) {
	if testing.Short() {
		t.Skip("10 s of real time")
	}
	w := newFakeWorld()
	w.leak = true
	w.leakUntil = make(chan struct{})
	defer close(w.leakUntil)
	rec := &recTB{TB: t}
	onGoroutine(func() {
		c := NewCluster(rec, w.make, 3, ClusterOptions{})
		c.end("Leaky", io.Discard)
	})
	wantFailure(t, rec, "goroutine leak after Kill: 1 kinds of goroutine", "fakeWorld).make.func1")
	if n := strings.Count(rec.text(), "×"); n != 1 {
		t.Errorf("want the one planted goroutine reported, got:\n%s", rec.text())
	}
}

// spinForever is a planted busy loop: it never blocks, so virtual time
// cannot advance.
func spinForever(stop *atomic.Bool) {
	for !stop.Load() {
		runtime.Gosched()
	}
}

// TestStalledVirtualTimeIsNamed runs, in a child process, an
// implementation with a goroutine that never blocks: virtual time stops,
// and instead of hanging until go test's timeout the scenario must end
// with a message that says why, naming the spinning function, after
// WallLimit (2 s) of real time, not twice that: the watchdog once took
// its first period as progress, so a lab Raft that spun from the start
// ran 6 minutes, not 3, before it was named.
func TestStalledVirtualTimeIsNamed(t *testing.T) {
	if os.Getenv("RAFTSPEC_STALL_CHILD") == "1" {
		w := newFakeWorld()
		var stop atomic.Bool
		mk := func(peers []raftapi.Peer, me int, p raftapi.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft {
			rf := w.make(peers, me, p, applyCh)
			go spinForever(&stop)
			return rf
		}
		s := Scenario{Name: "Spinning", Part: "X", Servers: 3, Run: func(c *Cluster) { c.CheckOneLeader() }}
		RunScenario(t, s, mk, &Options{Summary: io.Discard, WallLimit: 2 * time.Second})
		return
	}
	start := time.Now()
	failingChild(t, "RAFTSPEC_STALL_CHILD", "in SpinningX, virtual time has not advanced for 2s of real time", "some goroutine never blocks", "tests.spinForever")
	if d := time.Since(start); d >= 4*time.Second {
		t.Errorf("the stall was named after %v, want about the 2s WallLimit", d.Round(time.Millisecond))
	}
}

// failingChild runs the calling test again in a child process with env=1
// (its child half), requires the child to fail with output containing
// every one of want, and returns the output.
func failingChild(t *testing.T, env string, want ...string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs a child process")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), env+"=1", "RAFTSPEC_WALLCLOCK=")
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Fatalf("child passed; want it to fail:\n%s", out)
	}
	for _, w := range want {
		if !strings.Contains(string(out), w) {
			t.Errorf("child output lacks %q:\n%s", w, out)
		}
	}
	return string(out)
}

// A peer that calls again at once stops virtual time; the network names
// the storm in virtual time and lets the scenario end on it, instead of
// hanging until the watchdog.
func TestRPCStormIsNamed(t *testing.T) {
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.storm = true }, func(c *Cluster, r *recTB) {
		rec = r
		c.CheckOneLeader()
		t.Error("CheckOneLeader returned during an RPC storm")
	})
	wantFailure(t, rec, "RPC storm: more than 10000 RPCs within 1ms of virtual time", "wait (a heartbeat interval) before calling again")
	// The busiest of the three planted links, in whatever order the
	// scheduler ran them (naming one link here failed 3 runs in 30).
	if link := `fakeRaft\.Refuse (0→1|1→2|2→0) ×\d+`; !regexp.MustCompile(`busiest: ` + link + `(, ` + link + `)*\)`).MatchString(rec.text()) {
		t.Errorf("the storm does not name its busiest method and peers:\n%s", rec.text())
	}
}

// One place where goroutines wait is one kind of leak, however long each
// has waited (the dump says "2 minutes" for some and nothing for others).
func TestLeakKindsIgnoreWaitTime(t *testing.T) {
	for header, want := range map[string]string{
		"chan receive, synctest bubble 7":                   "chan receive",
		"chan receive, 2 minutes, synctest bubble 7":        "chan receive",
		"select, 1 minute, synctest bubble 12":              "select",
		"sync.Cond.Wait, 15 minutes, durable":               "sync.Cond.Wait, durable",
		"chan send (durable), 3 minutes, synctest bubble 1": "chan send (durable)",
	} {
		if got := waitStatus(header); got != want {
			t.Errorf("waitStatus(%q) = %q, want %q", header, got, want)
		}
	}
}

// A failed scenario says its seed, and RAFTSPEC_SEED gives a cluster that
// seed.
func TestFailureSaysSeed(t *testing.T) {
	t.Setenv(SeedEnv, "4242")
	var rec *recTB
	withFakeCluster(t, func(w *fakeWorld) { w.skipIndex = 2 }, func(c *Cluster, r *recTB) {
		rec = r
		if c.Seed() != 4242 {
			t.Errorf("Seed() = %d with %s=4242", c.Seed(), SeedEnv)
		}
		c.One(100, 3, false)
		c.One(200, 3, false)
	})
	wantFailure(t, rec, "apply out of order")
	if logs := strings.Join(rec.logs, "\n"); !strings.Contains(logs, "seed 4242: RAFTSPEC_SEED=4242 repeats") {
		t.Errorf("logs %q: want the failure's seed", logs)
	}
}

func TestBriefCutsLongCommands(t *testing.T) {
	long := strings.Repeat("x", 5000)
	if got := brief(long); len(got) > maxCommandText+40 || !strings.HasSuffix(got, "… (5000 bytes)") {
		t.Errorf("brief(5000 bytes) = %q", got)
	}
	if got := brief(42); got != "42" {
		t.Errorf("brief(42) = %q", got)
	}
}
