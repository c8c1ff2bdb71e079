package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// writeLab writes a lab-shaped module in root with the given files
// (paths relative to root; a go.mod of module 6.5840 unless given) and
// returns root.
func writeLab(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	if _, ok := files["go.mod"]; !ok {
		files["go.mod"] = "module 6.5840\n\ngo 1.22\n"
	}
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
		"FAIL: 0 passed, 1 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !regexp.MustCompile(`    rerun: RAFTSPEC_SEED=[1-9][0-9]* go run \./cmd/raftspec check -invariants=false -run '\^InitialElection3A\$' -v ` + regexp.QuoteMeta(dir)).MatchString(out) {
		t.Errorf("stdout lacks the rerun command with the run's seed")
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

// lab2025 is the fixture: a lab module in the 2025–26 layout whose raft1
// is a student-style Raft written apart from our reference, beside
// stand-ins for the lab's test.go and server.go, which must be hidden.
const lab2025 = "testdata/lab2025"

// readLab returns every file of the lab module in dir, by path relative
// to dir, for writeLab.
func readLab(t *testing.T, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(dir, p)
		files[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// lab2024 derives the 2022–24 layout of the fixture in a temporary
// module and returns its root: the same Raft in raft/, with ApplyMsg
// declared in raft.go, the Persister in persister.go, Make returning
// *Raft, and no raftapi or tester1 packages, as in those years' labs.
func lab2024(t *testing.T) string {
	t.Helper()
	src := readLab(t, lab2025)
	files := map[string]string{
		"go.mod":            src["go.mod"],
		"go.sum":            src["go.sum"],
		"labrpc/labrpc.go":  src["labrpc/labrpc.go"],
		"labgob/labgob.go":  src["labgob/labgob.go"],
		"raft/persister.go": strings.Replace(src["tester1/persister.go"], "package tester", "package raft", 1),
	}
	api := src["raftapi/raftapi.go"]
	applyMsg := api[strings.Index(api, "// ApplyMsg"):]
	rewrite := strings.NewReplacer(
		"\t\"6.5840/raftapi\"\n", "",
		"\ttester \"6.5840/tester1\"\n", "",
		"raftapi.ApplyMsg", "ApplyMsg",
		"*tester.Persister", "*Persister",
		") raftapi.Raft {", ") *Raft {",
	)
	for name, text := range src {
		base, ok := strings.CutPrefix(name, "raft1/")
		if !ok || !strings.HasSuffix(base, ".go") || slices.Contains(labHarnessFiles[layout2025], base) {
			continue // the 2025 lab's harness files have no 2022–24 form
		}
		text = rewrite.Replace(text)
		if base == "raft.go" {
			text += "\n" + applyMsg
		}
		if strings.Contains(text, "raftapi.") || strings.Contains(text, "tester.") {
			t.Fatalf("raft1/%s: the rewrite to the 2022–24 layout left a use of raftapi or tester1:\n%s", base, text)
		}
		files["raft/"+base] = text
	}
	return writeLab(t, files)
}

// checkLab runs raftspec check on the lab package dir with the extra
// flags and returns the exit code and the report.
func checkLab(t *testing.T, dir string, flags ...string) (int, checkReport, string) {
	t.Helper()
	args := append(append([]string{"check", "-json"}, flags...), dir)
	var stdout, stderr bytes.Buffer
	code := run(args, &stdout, &stderr)
	var rep checkReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil && code != 2 {
		t.Errorf("raftspec %q: stdout is not the JSON report: %v", args, err)
	}
	return code, rep, fmt.Sprintf("raftspec %s = %d\nstderr:\n%s\nstdout:\n%s", strings.Join(args, " "), code, stderr.String(), stdout.String())
}

// raceScenarios is the share of the suite run under -race by
// TestCheckFixture, one or two per part, the busiest: the whole suite
// under -race takes minutes (see docs/checking-your-raft.md).
const raceScenarios = "^(ManyElections3A|Backup3B|Figure8Unreliable3C|SnapshotInstallUnreliable3D)$"

// An independent Raft, written as a student would, passes every Raft
// scenario through raftspec check DIR in both lab layouts, in virtual
// time, and a share of them under the race detector.
func TestCheckFixture(t *testing.T) {
	if testing.Short() {
		t.Skip("builds test binaries")
	}
	all := len(raftOnly(suite()))
	root2024 := lab2024(t)
	for _, c := range []struct {
		name, dir, layout string
		flags             []string
		want              int
	}{
		{"2025", lab2025 + "/raft1", layout2025, nil, all},
		{"2024", filepath.Join(root2024, "raft"), layout2024, nil, all},
		{"2025-race", lab2025 + "/raft1", layout2025, []string{"-race", "-run", raceScenarios}, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			if p, err := detectLab(c.dir); err != nil || p.Layout != c.layout {
				t.Fatalf("detectLab(%s) = %+v, %v; want layout %s", c.dir, p, err, c.layout)
			}
			code, rep, out := checkLab(t, c.dir, c.flags...)
			if code != 0 || rep.Passed != c.want || rep.Failed != 0 {
				t.Fatalf("want %d scenarios passed, got %d passed, %d failed:\n%s", c.want, rep.Passed, rep.Failed, out)
			}
		})
	}
}

// The fixture test can fail: with the leader counting itself as a
// majority, the fixture commits what no majority holds, and
// FailNoAgree3B says so.
func TestCheckFixtureBroken(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a test binary")
	}
	files := readLab(t, lab2025)
	const majority = "if count > len(rf.peers)/2 {\n\t\t\trf.commitIndex = n"
	if !strings.Contains(files["raft1/append.go"], majority) {
		t.Fatalf("raft1/append.go no longer has %q to break", majority)
	}
	files["raft1/append.go"] = strings.Replace(files["raft1/append.go"], majority, "if count > 0 {\n\t\t\trf.commitIndex = n", 1)
	root := writeLab(t, files)
	code, rep, out := checkLab(t, filepath.Join(root, "raft1"), "-run", "^FailNoAgree3B$")
	if code != 1 || rep.Failed != 1 || !strings.Contains(out, "FailNoAgree3B") {
		t.Fatalf("a Raft that commits without a majority: want FailNoAgree3B to fail, got:\n%s", out)
	}
}

// The lab's go.mod requires porcupine, at an older version than ours; the
// go command refuses two requirements of one module ("updates to go.mod
// needed"), so the temporary go.mod keeps ours only, in a block or not.
func TestPrepareLabGoModRequires(t *testing.T) {
	ourMod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	ours := requiredPaths(string(ourMod))
	if !slices.Contains(ours, "github.com/anishathalye/porcupine") || !slices.Contains(ours, "golang.org/x/sys") {
		t.Fatalf("requiredPaths(our go.mod) = %v, want porcupine and the indirect golang.org/x/sys among them", ours)
	}
	for _, labMod := range []string{
		"module 6.5840\n\ngo 1.22\n\nrequire github.com/anishathalye/porcupine v1.0.3\n",
		"module 6.5840\n\ngo 1.22\n\nrequire (\n\tgithub.com/anishathalye/porcupine v1.0.0\n\texample.com/other v1.2.3\n)\n",
	} {
		root := writeLab(t, map[string]string{"go.mod": labMod, "labrpc/labrpc.go": "package labrpc\n", "tester1/t.go": "package tester\n", "raftapi/a.go": "package raftapi\n", "raft1/raft.go": make2025})
		p, err := detectLab(filepath.Join(root, "raft1"))
		if err != nil {
			t.Fatal(err)
		}
		b, err := prepareLab(p, "../..")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(b.TmpDir)
		got, _ := os.ReadFile(filepath.Join(b.TmpDir, "go.mod"))
		if n := strings.Count(string(got), "github.com/anishathalye/porcupine v"); n != 1 || strings.Contains(string(got), "porcupine v1.0.") {
			t.Errorf("lab go.mod:\n%s\ntemporary go.mod requires porcupine %d times, want once, ours:\n%s", labMod, n, got)
		}
		if strings.Contains(labMod, "example.com/other") && !strings.Contains(string(got), "example.com/other v1.2.3") {
			t.Errorf("the lab's other requirement was dropped:\n%s", got)
		}
	}
}
