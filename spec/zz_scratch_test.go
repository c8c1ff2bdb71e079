package spec

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/raftspec/raftspec/spec/mc"
)

func TestScratch(t *testing.T) {
	if os.Getenv("SCRATCH") == "" {
		t.Skip()
	}
	ml, _ := strconv.Atoi(os.Getenv("MAXLOG"))
	mt, _ := strconv.Atoi(os.Getenv("MAXTERM"))
	cfg := Config{Servers: 3, Values: 1, MaxTerm: mt, MaxLog: ml, Symmetry: os.Getenv("NOSYM") == "", NoHistory: os.Getenv("NOHIST") != ""}
	cfg.MaxInFlight, _ = strconv.Atoi(os.Getenv("INFLIGHT"))
	m, err := NewModel(cfg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := mc.Run[State, Action](m, mc.Options{Progress: os.Stderr, Timeout: time.Duration(envInt("TIMEOUT", 30)) * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("distinct %d generated %d depth %d elapsed %v complete %v stopped %q rate %.0f", res.Distinct, res.Generated, res.Depth, res.Elapsed, res.Complete, res.Stopped, res.PerSecond())
	if res.Violation != nil {
		t.Logf("violation: %v", res.Violation.Err)
		for i, st := range res.Violation.Trace {
			t.Logf("%d %v", i, st.Action)
		}
	}
}

func envInt(k string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(k)); err == nil {
		return v
	}
	return d
}
