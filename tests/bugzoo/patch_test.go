package bugzoo

import (
	"strings"
	"testing"
)

const src = "package p\n\nfunc f() int {\n\tx := 1\n\treturn x\n}\n"

const diff = `Mutant: Two
Story: x is two.

--- a/p/p.go
+++ b/p/p.go
@@ -3,4 +3,4 @@
 func f() int {
-	x := 1
+	x := 2
 	return x
 }
`

func TestApply(t *testing.T) {
	m, err := Parse("two.patch", diff)
	if err != nil {
		t.Fatal(err)
	}
	if m.Fields["Mutant"] != "Two" || m.Fields["Story"] != "x is two." || len(m.Files) != 1 || m.Files[0].Path != "p/p.go" {
		t.Fatalf("Parse = %+v", m)
	}
	got, err := m.Files[0].Apply(src)
	if want := strings.Replace(src, "1", "2", 1); err != nil || got != want {
		t.Errorf("Apply = %q, %v, want %q", got, err, want)
	}
	// The file moved: the hunk applies where its lines now are.
	moved := "// a comment\n" + src
	if got, err := m.Files[0].Apply(moved); err != nil || !strings.Contains(got, "x := 2") {
		t.Errorf("Apply to a moved file = %q, %v", got, err)
	}
}

// A patch whose context no longer matches fails, naming the hunk; so does
// one whose lines occur twice away from where it says.
func TestApplyIsStrict(t *testing.T) {
	m, err := Parse("two.patch", diff)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"context changed", strings.Replace(src, "return x", "return x + 0", 1), "hunk 1 (@@ -3,4 +3,4 @@) does not apply"},
		{"whitespace changed", strings.Replace(src, "\tx := 1", "    x := 1", 1), "does not apply"},
		{"ambiguous", "package p\n\n// c\n" + src[len("package p\n\n"):] + src[len("package p\n\n"):], "occur 2 times, none at line 3"},
	} {
		if _, err := m.Files[0].Apply(tc.src); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Apply error = %v, want %q", tc.name, err, tc.want)
		}
	}
	if _, err := Parse("bad.patch", strings.Replace(diff, "@@ -3,4 +3,4 @@", "@@ -3,5 +3,4 @@", 1)); err == nil {
		t.Error("Parse accepted a hunk whose header counts disagree with its lines")
	}
}
