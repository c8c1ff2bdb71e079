package bugzoo_test

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/raftspec/raftspec/tests/bugzoo"
)

// parallel is how many mutants build and run at once: the machine has two
// cores, and a mutant is a build (both cores) and then a scenario (mostly
// one).
const parallel = 2

// load parses every patch of the zoo.
func load(t *testing.T) []*bugzoo.Mutant {
	t.Helper()
	names, err := filepath.Glob("*.patch")
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(names)
	var ms []*bugzoo.Mutant
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		m, err := bugzoo.Parse(name, string(b))
		if err != nil {
			t.Fatalf("patch %v", err)
		}
		for _, k := range []string{"Mutant", "Story", "Catcher", "Pkg", "Run", "Want"} {
			if m.Fields[k] == "" {
				t.Errorf("%s: no %s: in its header", name, k)
			}
		}
		ms = append(ms, m)
	}
	return ms
}

// TestZooPatchesApply checks, fast and under -short, that every patch of
// the zoo parses, has its header, and still applies to the module.
func TestZooPatchesApply(t *testing.T) {
	ms := load(t)
	if len(ms) < 20 {
		t.Errorf("%d mutants in the zoo, want at least 20", len(ms))
	}
	for _, m := range ms {
		if _, err := apply(m, t.TempDir()); err != nil {
			t.Errorf("%v", err)
		}
	}
}

// apply writes the files m patches, patched, under dir, and returns the
// path of a build overlay that replaces the module's files with them.
func apply(m *bugzoo.Mutant, dir string) (string, error) {
	repl := map[string]string{}
	for _, fd := range m.Files {
		orig := filepath.Join("..", "..", filepath.FromSlash(fd.Path))
		src, err := os.ReadFile(orig)
		if err != nil {
			return "", fmt.Errorf("patch %s: %v", m.File, err)
		}
		out, err := fd.Apply(string(src))
		if err != nil {
			return "", fmt.Errorf("patch %s no longer applies: %v", m.File, err)
		}
		abs, err := filepath.Abs(orig)
		if err != nil {
			return "", err
		}
		mutated := filepath.Join(dir, strings.ReplaceAll(fd.Path, "/", "_"))
		if err := os.WriteFile(mutated, []byte(out), 0o644); err != nil {
			return "", err
		}
		repl[abs] = mutated
	}
	b, err := json.Marshal(map[string]map[string]string{"Replace": repl})
	if err != nil {
		return "", err
	}
	ovl := filepath.Join(dir, "overlay.json")
	return ovl, os.WriteFile(ovl, b, 0o644)
}

// result is what one mutant's run found.
type result struct {
	name, catcher string
	evidence      string        // the first line of the output that says Want
	build, run    time.Duration // building the catcher's tests; running them to the first failure
	err           error         // the mutant survived, or something else went wrong
	out           string        // the catcher's output
}

// TestBugZoo applies each patch of the zoo to a copy of the files it
// touches, builds the tests its header names (Pkg, Tags) against the copy
// with -overlay, runs them once with -failfast (Run, Env, Timeout), and
// requires them to fail with output that contains Want. It then prints
// the table mutant → catcher → seconds.
//
// It builds and runs some twenty test binaries, so -short skips it, and so
// does the race detector build (the mutants are built without it).
func TestBugZoo(t *testing.T) {
	if testing.Short() || raceOn {
		t.Skip("the bug zoo is built and run without -short and without -race")
	}
	ms := chosen(load(t))
	results := make([]result, len(ms))
	start := time.Now()
	eachMutant(ms, func(k int, m *bugzoo.Mutant) { results[k] = runMutant(m, mutantDir(t)) })
	total := time.Since(start)

	var b strings.Builder
	fmt.Fprintf(&b, "%-34s %7s %7s  %s\n", "mutant", "build s", "run s", "caught by")
	var runs []time.Duration
	for _, r := range results {
		verdict := r.catcher
		if r.err != nil {
			verdict = "NOT CAUGHT: " + r.err.Error()
		}
		fmt.Fprintf(&b, "%-34s %7.1f %7.2f  %s\n", r.name, r.build.Seconds(), r.run.Seconds(), verdict)
		if r.evidence != "" {
			fmt.Fprintf(&b, "%-34s %7s %7s    > %s\n", "", "", "", r.evidence)
		}
		runs = append(runs, r.run)
	}
	slices.Sort(runs)
	if len(runs) > 0 {
		fmt.Fprintf(&b, "%d mutants, median run %.2fs, %d at a time, total %.1fs\n",
			len(runs), runs[len(runs)/2].Seconds(), parallel, total.Seconds())
	}
	t.Logf("\n%s", b.String())
	if os.Getenv("RAFTSPEC_ZOO") != "" { // a few mutants chosen: show their catchers' output
		for _, r := range results {
			t.Logf("%s:\n%s", r.name, r.out)
		}
	}
	for _, r := range results {
		if r.err != nil {
			t.Errorf("%s: %v", r.name, r.err)
		}
	}
}

// chosen is ms, or only those whose file name holds RAFTSPEC_ZOO if it is
// set (RAFTSPEC_ZOO=13: one mutant, with its catcher's output).
func chosen(ms []*bugzoo.Mutant) []*bugzoo.Mutant {
	if only := os.Getenv("RAFTSPEC_ZOO"); only != "" {
		return slices.DeleteFunc(ms, func(m *bugzoo.Mutant) bool { return !strings.Contains(m.File, only) })
	}
	return ms
}

// eachMutant calls f for each mutant of ms, parallel at a time, and waits
// for them all.
func eachMutant(ms []*bugzoo.Mutant, f func(k int, m *bugzoo.Mutant)) {
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for k, m := range ms {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			f(k, m)
		}()
	}
	wg.Wait()
}

// mutantDir is where a mutant is built and its catcher leaves artifacts
// (porcupine's visualisation): a test temporary directory, or, when
// RAFTSPEC_ZOO picks mutants to look at, one that outlives the test, so
// the paths the catcher's output names can still be opened.
func mutantDir(t *testing.T) string {
	if os.Getenv("RAFTSPEC_ZOO") == "" {
		return t.TempDir()
	}
	dir, err := os.MkdirTemp("", "raftspec-zoo-")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts of a mutant kept in %s", dir)
	return dir
}

// runMutant builds and runs the catcher of m in dir.
func runMutant(m *bugzoo.Mutant, dir string) (r result) {
	r.name = strings.TrimSuffix(m.File, ".patch")
	r.catcher = m.Fields["Catcher"]
	ovl, err := apply(m, dir)
	if err != nil {
		r.err = err
		return r
	}
	pkg := m.Fields["Pkg"]
	bin := filepath.Join(dir, "catcher.test")
	build := []string{"test", "-c", "-o", bin, "-overlay", ovl}
	if tags := m.Fields["Tags"]; tags != "" {
		build = append(build, "-tags", tags)
	}
	build = append(build, "../../"+strings.TrimPrefix(pkg, "./"))
	t0 := time.Now()
	if out, err := exec.Command("go", build...).CombinedOutput(); err != nil {
		r.err = fmt.Errorf("go %s: %v\n%s", strings.Join(build, " "), err, out)
		return r
	}
	r.build = time.Since(t0)

	timeout := m.Fields["Timeout"]
	if timeout == "" {
		timeout = "2m"
	}
	args := []string{"-test.run", m.Fields["Run"], "-test.failfast", "-test.count=1", "-test.timeout", timeout, "-test.v"}
	cmd := exec.Command(bin, args...)
	cmd.Dir = filepath.Join("..", "..", filepath.FromSlash(strings.TrimPrefix(pkg, "./")))
	cmd.Env = append(os.Environ(), "RAFTSPEC_ARTIFACTS="+dir, "RAFTSPEC_WALLCLOCK=")
	if env := m.Fields["Env"]; env != "" {
		cmd.Env = append(cmd.Env, strings.Fields(env)...)
	}
	t0 = time.Now()
	out, err := cmd.CombinedOutput()
	r.run = time.Since(t0)
	r.out = string(out)
	want := m.Fields["Want"]
	switch {
	case err == nil:
		r.err = fmt.Errorf("survived: %s %s passed", pkg, strings.Join(args, " "))
	case !strings.Contains(string(out), want):
		r.err = fmt.Errorf("caught, but not by %q:\n%s", want, tail(string(out), 40))
	default:
		r.err = checkArtifact(m.Fields["Artifact"], string(out))
		for _, l := range strings.Split(string(out), "\n") {
			if strings.Contains(l, want) {
				r.evidence = strings.TrimSpace(l)
				if len(r.evidence) > 160 {
					r.evidence = r.evidence[:160] + "…"
				}
				break
			}
		}
	}
	return r
}

// htmlPath finds the porcupine visualisation a failed linearizability
// check names.
var htmlPath = regexp.MustCompile(`visualisation: (\S+\.html)`)

// checkArtifact checks the artifact the header says the failure leaves
// ("Artifact: html": porcupine's visualisation, named in the output).
func checkArtifact(kind, out string) error {
	switch kind {
	case "":
		return nil
	case "html":
		m := htmlPath.FindStringSubmatch(out)
		if m == nil {
			return fmt.Errorf("no visualisation named in the output")
		}
		if info, err := os.Stat(m[1]); err != nil || info.Size() == 0 {
			return fmt.Errorf("the visualisation %s named in the failure is missing or empty (%v)", m[1], err)
		}
		return nil
	}
	return fmt.Errorf("unknown Artifact: %q", kind)
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
