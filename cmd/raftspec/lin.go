package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/raftspec/raftspec/linearizability"
)

func init() {
	commands["lin"] = command{summary: "check that a recorded history is linearizable (porcupine)", run: runLin}
}

// linStdin is what FILE "-" reads; tests replace it.
var linStdin io.Reader = os.Stdin

var linModels = map[string]func() porcupine.Model{
	"kv":       linearizability.KVModel,
	"register": linearizability.RegisterModel,
}

func runLin(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("raftspec lin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	model := fs.String("model", "kv", "the model: kv (get, put, append) or register (read, write, cas)")
	budget := fs.Duration("budget", 10*time.Second, "give up after this long (0 = no limit); giving up is not a pass")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: raftspec lin [-model kv|register] [-budget 10s] FILE")
		fmt.Fprintln(stderr, "Checks that the history in FILE (JSON lines, one operation or fault a line; - for stdin) is")
		fmt.Fprintln(stderr, "linearizable. On Illegal it explains why and writes porcupine's visualisation to")
		fmt.Fprintln(stderr, "$RAFTSPEC_ARTIFACTS (default: the temporary directory). Exit 0: Ok, 1: Illegal,")
		fmt.Fprintln(stderr, "2: Unknown (the budget ran out), bad usage or bad input. Format: docs/linearizability.md.")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	newModel, ok := linModels[*model]
	switch {
	case fs.NArg() != 1:
		fmt.Fprintln(stderr, "raftspec lin: want one FILE (- for stdin)")
		fs.Usage()
		return 2
	case !ok:
		fmt.Fprintf(stderr, "raftspec lin: -model %q: want kv or register\n", *model)
		return 2
	case *budget < 0:
		fmt.Fprintf(stderr, "raftspec lin: -budget %v: must not be negative\n", *budget)
		return 2
	}
	name := fs.Arg(0)
	h, err := readLinHistory(name, *model)
	if err != nil {
		fmt.Fprintf(stderr, "raftspec lin: %s: %v\n", name, err)
		return 2
	}
	res := linearizability.Check(newModel(), h, *budget)
	fmt.Fprintln(stdout, res)
	switch res.Verdict {
	case linearizability.Ok:
		return 0
	case linearizability.Illegal:
		fmt.Fprintln(stdout, res.Why)
		if res.HTML != "" {
			fmt.Fprintf(stdout, "visualisation: %s\n", res.HTML)
		} else {
			fmt.Fprintf(stderr, "raftspec lin: %v\n", res.Err())
		}
		return 1
	}
	fmt.Fprintf(stderr, "raftspec lin: %v\n", res.Err())
	return 2
}

func readLinHistory(name, model string) (linearizability.History, error) {
	if name == "-" {
		return linearizability.ReadHistory(linStdin, model)
	}
	f, err := os.Open(name)
	if err != nil {
		return linearizability.History{}, err
	}
	defer f.Close()
	return linearizability.ReadHistory(f, model)
}
