// Package docs holds raftspec's documentation. Its test checks that every
// code reference in the docs resolves: a link whose text is an identifier
// in backquotes and whose target is a Go file must name a function, method
// or type declared in that file, and every relative link must exist.
package docs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var link = regexp.MustCompile("\\[(`?)([^\\]`]+)`?\\]\\(([^)#\\s]+)(#[^)]*)?\\)")

func TestCodeReferencesResolve(t *testing.T) {
	var pages []string
	err := filepath.WalkDir(".", func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".md") {
			pages = append(pages, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, page := range pages {
		text, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range link.FindAllStringSubmatch(string(text), -1) {
			code, name, target := m[1] == "`", m[2], m[3]
			if strings.Contains(target, "://") {
				continue
			}
			path := filepath.Join(filepath.Dir(page), target)
			if _, err := os.Stat(path); err != nil {
				t.Errorf("%s: link to %s: %v", page, target, err)
				continue
			}
			if !code || !strings.HasSuffix(path, ".go") || !isIdent(name) {
				continue
			}
			if !declares(t, path, name) {
				t.Errorf("%s: %s is not declared in %s", page, name, target)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Errorf("only %d code references checked; the link pattern has probably stopped matching", checked)
	}
}

func isIdent(s string) bool { return regexp.MustCompile(`^[A-Za-z_]\w*$`).MatchString(s) }

var parsed = map[string]*ast.File{}

// declares reports whether the Go file at path declares name at top level:
// a function, a method (by its name), a type, a constant or a variable.
func declares(t *testing.T, path, name string) bool {
	f, ok := parsed[path]
	if !ok {
		var err error
		if f, err = parser.ParseFile(token.NewFileSet(), path, nil, parser.SkipObjectResolution); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		parsed[path] = f
	}
	for _, d := range f.Decls {
		switch d := d.(type) {
		case *ast.FuncDecl:
			if d.Name.Name == name {
				return true
			}
		case *ast.GenDecl:
			for _, s := range d.Specs {
				switch s := s.(type) {
				case *ast.TypeSpec:
					if s.Name.Name == name {
						return true
					}
				case *ast.ValueSpec:
					for _, n := range s.Names {
						if n.Name == name {
							return true
						}
					}
				}
			}
		}
	}
	return false
}
