package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// writeLab writes a lab-shaped module with go.mod in root and the given
// files (paths relative to root) and returns root.
func writeLab(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	files["go.mod"] = "module 6.5840\n\ngo 1.22\n"
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const make2025 = `package raft
import ("6.5840/labrpc"; "6.5840/raftapi"; tester "6.5840/tester1")
type Raft struct{}
func Make(peers []*labrpc.ClientEnd, me int, persister *tester.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft { return nil }
`

const make2024 = `package raft
import "6.5840/labrpc"
type Raft struct{}
type ApplyMsg struct{}
func Make(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) *Raft { return nil }
`

func TestDetectLabLayouts(t *testing.T) {
	root := writeLab(t, map[string]string{
		"raft1/raft.go":       make2025,
		"raft1/raft_test.go":  "package raft\nthis does not parse, and test files are not read\n",
		"raft/raft.go":        make2024,
		"raft/persister.go":   "package raft\ntype Persister struct{}\n",
		"raft/config_test.go": "package raft\n",
		"notraft/x.go":        "package kv\n",
		"nomake/raft.go":      "package raft\n",
		"badsig/raft.go":      "package raft\nfunc Make(me int) *Raft { return nil }\n",
		"badresult/raft.go":   "package raft\nimport \"6.5840/labrpc\"\nfunc Make(peers []*labrpc.ClientEnd, me int, p *P, ch chan int) int { return 0 }\n",
		"nopersister/raft.go": make2024,
		"empty/README":        "",
		"syntaxerror/raft.go": "package raft\nfunc (\n",
		"grouped/raft.go":     "package raft\nimport \"6.5840/labrpc\"\ntype Raft struct{}\ntype ApplyMsg struct{}\ntype Persister struct{}\nfunc Make(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) (rf *Raft) { return nil }\n",
	})
	for _, c := range []struct{ dir, layout, path string }{
		{"raft1", layout2025, "6.5840/raft1"},
		{"raft", layout2024, "6.5840/raft"},
		{"grouped", layout2024, "6.5840/grouped"},
	} {
		p, err := detectLab(filepath.Join(root, c.dir))
		if err != nil {
			t.Errorf("%s: %v", c.dir, err)
			continue
		}
		if p.Layout != c.layout || p.ImportPath != c.path || p.Module != "6.5840" || p.ModRoot != root {
			t.Errorf("%s: got %+v, want layout %s, import path %s", c.dir, *p, c.layout, c.path)
		}
	}
	for _, c := range []struct{ dir, want string }{
		{"notraft", "want package raft"},
		{"nomake", "no func Make"},
		{"badsig", "Make has 1 parameters"},
		{"badresult", "returns neither raftapi.Raft nor *Raft"},
		{"nopersister", "declares no type Persister"},
		{"empty", "has no Go files"},
		{"syntaxerror", "does not parse"},
		{"missing", "no such file"},
	} {
		_, err := detectLab(filepath.Join(root, c.dir))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.dir, err, c.want)
		}
	}
	if _, err := detectLab(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no Go files") && !strings.Contains(err.Error(), "no go.mod") {
		t.Errorf("directory outside a module: error %v", err)
	}
}

// A lab-shaped 2025 module whose stand-in labrpc and tester1 cannot even be
// used by our suite (they import a package that does not exist), and whose
// student Raft never elects a leader: the overlay must replace the
// stand-ins, hide raft_test.go (it does not compile), and our
// InitialElection3A must build, run and fail on the student's code.
func TestPrepareLabBuildsAndRunsOurSuite(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	root := writeLab(t, neverElects2025())
	_, out, err := runLab(t, root, "raft1", "InitialElection3A")
	if err == nil {
		t.Fatalf("a Raft that never elects passed:\n%s", out)
	}
	if !strings.Contains(string(out), "--- FAIL: TestInitialElection3A") {
		t.Fatalf("want our InitialElection3A to run and fail, got:\n%s", out)
	}
	if got, _ := os.ReadFile(filepath.Join(root, "raft1", "raft_test.go")); !strings.Contains(string(got), "undefined()") {
		t.Errorf("the student's tree was changed")
	}
}

// TestCheckDirEndToEnd: raftspec check DIR on the same lab reads the
// failure from the test2json stream: a FAIL row, the failing check, the
// log and the rerun command that points at the student's code.
func TestCheckDirEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	dir := filepath.Join(writeLab(t, neverElects2025()), "raft1")
	var stdout, stderr bytes.Buffer
	code := run([]string{"check", "-invariants=false", "-run", "^InitialElection3A$", dir}, &stdout, &stderr)
	out := stdout.String()
	for _, want := range []string{
		"InitialElection3A  FAIL ",
		"--- FAIL InitialElection3A\n    scenarios_3a.go:",
		"expected one leader",
		"    log: ",
		"    rerun: raftspec check -run '^InitialElection3A$' -v " + dir,
		"FAIL: 0 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if code != 1 || t.Failed() {
		t.Fatalf("check DIR = %d; stdout:\n%s\nstderr:\n%s", code, out, stderr.String())
	}
}

// neverElects2025 is a lab-shaped 2025 module whose stand-in labrpc and
// tester1 cannot be used by our suite (they import a package that does
// not exist), with a raft_test.go that does not compile, and a student
// Raft that never elects a leader.
func neverElects2025() map[string]string {
	return map[string]string{
		"labrpc/labrpc.go":     "package labrpc\nimport _ \"6.5840/nonexistent\"\ntype ClientEnd struct{}\nfunc (e *ClientEnd) Call(svcMeth string, args interface{}, reply interface{}) bool { return false }\n",
		"tester1/persister.go": "package tester\nimport _ \"6.5840/nonexistent\"\ntype Persister struct{}\n",
		"raftapi/raftapi.go":   "package raftapi\ntype ApplyMsg struct{ CommandValid bool }\ntype Raft interface{ Kill() }\n",
		"raft1/raft_test.go":   "package raft\nfunc broken() { undefined() }\n",
		"raft1/raft.go": `package raft
import ("6.5840/labrpc"; "6.5840/raftapi"; tester "6.5840/tester1")
type Raft struct{}
func (rf *Raft) Start(command interface{}) (int, int, bool) { return -1, 0, false }
func (rf *Raft) GetState() (int, bool) { return 0, false }
func (rf *Raft) Snapshot(index int, snapshot []byte) {}
func (rf *Raft) PersistBytes() int { return 0 }
func (rf *Raft) Kill() {}
func Make(peers []*labrpc.ClientEnd, me int, persister *tester.Persister, applyCh chan raftapi.ApplyMsg) raftapi.Raft { return &Raft{} }
`,
	}
}

// The 2022–24 layout: ApplyMsg declared in raft.go (made an alias in an
// overlaid copy), Persister in persister.go (replaced by the shim), the
// lab's config.go and a raft_test.go our vet would reject (non-constant
// format string) hidden, PersistBytes added: it builds and our
// InitialElection3A fails on a Raft that never elects.
func TestPrepareLab2024(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	root := writeLab(t, map[string]string{
		"labrpc/labrpc.go":  "package labrpc\nimport _ \"6.5840/nonexistent\"\ntype ClientEnd struct{}\n",
		"raft/persister.go": "package raft\nimport \"sync\"\ntype Persister struct{ mu sync.Mutex }\n",
		"raft/config.go":    "package raft\nimport \"6.5840/labrpc\"\nfunc makeConfig() { labrpc.MakeNetwork() }\n",
		"raft/raft_test.go": "package raft\nimport \"testing\"\nfunc TestX(t *testing.T) { t.Errorf(msg) }\nvar msg = \"x\"\n",
		"raft/raft.go":      raft2024,
	})
	p, out, err := runLab(t, root, "raft", "InitialElection3A")
	if p.Layout != layout2024 {
		t.Fatalf("layout %s, want %s", p.Layout, layout2024)
	}
	if err == nil || !strings.Contains(string(out), "--- FAIL: TestInitialElection3A") || !strings.Contains(string(out), "expected one leader") {
		t.Fatalf("want our InitialElection3A to run and fail, got (%v):\n%s", err, out)
	}
}

const raft2024 = `package raft

import "6.5840/labrpc"

type ApplyMsg struct {
	CommandValid bool
	Command      interface{}
	CommandIndex int

	SnapshotValid bool
	Snapshot      []byte
	SnapshotTerm  int
	SnapshotIndex int
}

type Raft struct{ persister *Persister }

func (rf *Raft) Start(command interface{}) (int, int, bool) { return -1, 0, false }
func (rf *Raft) GetState() (int, bool)                      { return 0, false }
func (rf *Raft) Snapshot(index int, snapshot []byte)        {}
func (rf *Raft) Kill()                                      {}

type RequestVoteArgs struct{ Term int }
type RequestVoteReply struct{ Term int }

func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {}

func Make(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) *Raft {
	return &Raft{persister: persister}
}
`

// runLab detects the lab package pkg in root, prepares its build and runs
// scenario with go test; it returns the go test output and error.
func runLab(t *testing.T, root, pkg, scenario string) (*labPackage, []byte, error) {
	t.Helper()
	p, err := detectLab(filepath.Join(root, pkg))
	if err != nil {
		t.Fatal(err)
	}
	ourRoot, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	b, err := prepareLab(p, ourRoot)
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(b.TmpDir)
	args := append([]string{"test"}, b.Args...)
	args = append(args, "-count=1", "-run", "^Test"+scenario+"$", "./"+pkg)
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	out, err := cmd.CombinedOutput()
	return p, out, err
}
