package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func runLinArgs(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(append([]string{"lin"}, args...), &o, &e)
	return code, o.String(), e.String()
}

const linTestdata = "../../linearizability/testdata/"

func TestLinOk(t *testing.T) {
	code, out, errOut := runLinArgs(linTestdata + "kv-ok.jsonl")
	require.Equal(t, 0, code, errOut)
	require.Regexp(t, `^Ok: 7 operations checked in \S+\n$`, out)

	code, out, _ = runLinArgs("-model", "register", "-budget", "1m", linTestdata+"register-ok.jsonl")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "Ok: 5 operations"), out)
}

func TestLinIllegal(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("RAFTSPEC_ARTIFACTS", dir)
	code, out, _ := runLinArgs(linTestdata + "kv-illegal.jsonl")
	require.Equal(t, 1, code)
	require.Contains(t, out, "Illegal: 5 operations checked in ")
	require.Contains(t, out, `client 3's Get("x") returned "a1" but the model expects "a2"`)
	m := regexp.MustCompile(`visualisation: (\S+)`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	require.Equal(t, dir, filepath.Dir(m[1]))
	html, err := os.ReadFile(m[1])
	require.NoError(t, err)
	require.Contains(t, string(html), "server 1 becomes leader of term 2", "the fault is annotated")
}

func TestLinStdin(t *testing.T) {
	old := linStdin
	defer func() { linStdin = old }()
	linStdin = strings.NewReader(`{"client":0,"op":"put","key":"x","value":"1","call":1,"return":2,"status":"ok"}` + "\n")
	code, out, _ := runLinArgs("-")
	require.Equal(t, 0, code)
	require.True(t, strings.HasPrefix(out, "Ok: 1 operation"), out)
}

func TestLinBadInput(t *testing.T) {
	file := filepath.Join(t.TempDir(), "h.jsonl")
	good := `{"client":0,"op":"put","key":"x","value":"1","call":1,"return":2,"status":"ok"}`
	require.NoError(t, os.WriteFile(file, []byte(good+"\n\n"+`{"client":0,"op":"put","key":"x","value":"1","call":1,"return":2,"status":"ok"`+"\n"), 0o644))
	code, out, errOut := runLinArgs(file)
	require.Equal(t, 2, code)
	require.Empty(t, out)
	require.Equal(t, "raftspec lin: "+file+": line 3: unexpected EOF\n", errOut)

	for _, args := range [][]string{
		{}, {"a", "b"}, {"-model", "queue", file}, {"-budget", "-1s", file}, {"-nope"},
		{filepath.Join(t.TempDir(), "missing.jsonl")},
		{"-model", "register", linTestdata + "kv-ok.jsonl"},
	} {
		code, _, errOut := runLinArgs(args...)
		require.Equal(t, 2, code, "%q", args)
		require.NotEmpty(t, errOut, "%q", args)
	}
}
