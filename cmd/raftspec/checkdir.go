package main

// raftspec check DIR, first part: recognising a lab package directory.
//
// detectLab reads a student's lab package without changing it and says
// which of the two lab layouts it has, or why it is not a lab package:
//
//	2025–26: src/raft1, package raft, Make(...) raftapi.Raft, ApplyMsg in
//	         6.5840/raftapi, Persister in 6.5840/tester1.
//	2022–24: src/raft, package raft, Make(...) *Raft, ApplyMsg declared in
//	         the package, Persister in its persister.go.
//
// checkdirbuild.go builds the package found with our suite.

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
)

// Lab layouts.
const (
	layout2025 = "2025" // src/raft1: Make returns raftapi.Raft
	layout2024 = "2024" // src/raft: Make returns *Raft, ApplyMsg and Persister in-package
)

// labPackage is a lab package directory as detectLab found it.
type labPackage struct {
	Dir             string            // the package directory, absolute
	ModRoot         string            // the directory of its go.mod
	Module          string            // the module path ("6.5840")
	ImportPath      string            // Module + the directory relative to ModRoot
	Layout          string            // layout2025 or layout2024
	TypeFile        map[string]string // 2024: the file declaring each of Raft, ApplyMsg, Persister
	HasPersistBytes bool
}

// detectLab recognises the lab package in dir. Its errors name what was
// expected, so that a student pointing at the wrong directory knows why.
func detectLab(dir string) (*labPackage, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if fi, err := os.Stat(abs); err != nil {
		return nil, fmt.Errorf("%s: not a lab Raft package directory (select scenarios with -run): %v", dir, err)
	} else if !fi.IsDir() {
		return nil, fmt.Errorf("%s is not a directory: want a lab Raft package directory such as ~/6.5840/src/raft1", dir)
	}
	p := &labPackage{Dir: abs}
	p.ModRoot, p.Module, err = findModule(abs)
	if err != nil {
		return nil, err
	}
	rel, err := filepath.Rel(p.ModRoot, abs)
	if err != nil {
		return nil, err
	}
	p.ImportPath = p.Module
	if rel != "." {
		p.ImportPath += "/" + filepath.ToSlash(rel)
	}

	fset := token.NewFileSet()
	entries, err := os.ReadDir(abs)
	if err != nil {
		return nil, err
	}
	var files []*ast.File
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || !strings.HasSuffix(n, ".go") || strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(abs, n), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, fmt.Errorf("%s does not parse: %v", n, err)
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("%s has no Go files: want a lab Raft package directory (src/raft1 or src/raft)", dir)
	}
	var mk *ast.FuncDecl
	types := map[string]bool{}
	p.TypeFile = map[string]string{}
	for _, f := range files {
		if f.Name.Name != "raft" {
			return nil, fmt.Errorf("%s: package %s, want package raft", fset.Position(f.Package).Filename, f.Name.Name)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if d.Recv == nil && d.Name.Name == "Make" {
					mk = d
				}
				if d.Recv != nil && d.Name.Name == "PersistBytes" {
					p.HasPersistBytes = true
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					if ts, ok := s.(*ast.TypeSpec); ok {
						types[ts.Name.Name] = true
						p.TypeFile[ts.Name.Name] = fset.Position(ts.Pos()).Filename
					}
				}
			}
		}
	}
	const want = "want func Make(peers []*labrpc.ClientEnd, me int, persister *Persister, applyCh chan ApplyMsg) returning raftapi.Raft (2025 layout) or *Raft (2022–24 layout)"
	if mk == nil {
		return nil, fmt.Errorf("%s: no func Make: %s", dir, want)
	}
	pos := fset.Position(mk.Pos())
	if n := countFields(mk.Type.Params); n != 4 {
		return nil, fmt.Errorf("%s: Make has %d parameters: %s", pos, n, want)
	}
	if countFields(mk.Type.Results) != 1 {
		return nil, fmt.Errorf("%s: Make must return one value: %s", pos, want)
	}
	params := mk.Type.Params.List
	if !isSliceOfPtrTo(paramType(params, 0), "labrpc", "ClientEnd") {
		return nil, fmt.Errorf("%s: Make's first parameter is not []*labrpc.ClientEnd: %s", pos, want)
	}
	switch r := mk.Type.Results.List[0].Type.(type) {
	case *ast.SelectorExpr:
		if x, ok := r.X.(*ast.Ident); ok && x.Name == "raftapi" && r.Sel.Name == "Raft" {
			p.Layout = layout2025
		}
	case *ast.StarExpr:
		if x, ok := r.X.(*ast.Ident); ok && x.Name == "Raft" {
			p.Layout = layout2024
		}
	}
	switch p.Layout {
	case "":
		return nil, fmt.Errorf("%s: Make returns neither raftapi.Raft nor *Raft: %s", pos, want)
	case layout2024:
		for _, t := range []string{"Raft", "ApplyMsg", "Persister"} {
			if !types[t] {
				return nil, fmt.Errorf("%s: 2022–24 layout (Make returns *Raft) but the package declares no type %s", dir, t)
			}
		}
	}
	return p, nil
}

// findModule walks up from dir to the nearest go.mod and returns its
// directory and module path.
func findModule(dir string) (root, module string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		f, err := os.Open(filepath.Join(d, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if m, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return d, strings.Trim(strings.TrimSpace(m), `"`), nil
				}
			}
			return "", "", fmt.Errorf("%s has no module line", filepath.Join(d, "go.mod"))
		}
		if filepath.Dir(d) == d {
			return "", "", fmt.Errorf("no go.mod above %s: want a lab package inside its module (the lab's go.mod is in src/)", dir)
		}
	}
}

func countFields(fl *ast.FieldList) int {
	if fl == nil {
		return 0
	}
	n := 0
	for _, f := range fl.List {
		if len(f.Names) == 0 {
			n++
		} else {
			n += len(f.Names)
		}
	}
	return n
}

// paramType is the type of the i-th parameter, counting grouped names.
func paramType(fl []*ast.Field, i int) ast.Expr {
	for _, f := range fl {
		k := max(len(f.Names), 1)
		if i < k {
			return f.Type
		}
		i -= k
	}
	return nil
}

func isSliceOfPtrTo(e ast.Expr, pkg, name string) bool {
	a, ok := e.(*ast.ArrayType)
	if !ok || a.Len != nil {
		return false
	}
	s, ok := a.Elt.(*ast.StarExpr)
	if !ok {
		return false
	}
	sel, ok := s.X.(*ast.SelectorExpr)
	if !ok {
		return false
	}
	x, ok := sel.X.(*ast.Ident)
	return ok && x.Name == pkg && sel.Sel.Name == name
}
