package main

// raftspec logs: an event log of the simulator as a picture of who did
// what when, one column per server.

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/raftspec/raftspec/tests/sim"
)

func init() {
	commands["logs"] = command{
		summary: "lay out a simulator event log one column per server, filtered by topic",
		run:     runLogs,
	}
}

const logsUsage = `usage: raftspec logs [-topic LIST] [-width W] [FILE]

Reads an event log of raftspec sim (from FILE, or stdin) and prints it one
column per server, so a failure reads as a picture of who did what when:

  go run ./cmd/raftspec sim -seed 7 -schedule figure8 | go run ./cmd/raftspec logs -topic election,commit

Lines about the whole cluster (the network healing) span the columns.
Topics: %s.
flags:
`

func runLogs(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, logsUsage, strings.Join(sim.TopicNames(), ", "))
		fs.PrintDefaults()
	}
	topics := fs.String("topic", "", "comma-separated topics to show (default: all)")
	width := fs.Int("width", 36, "width of a server's column, in characters")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	fail := failer(stderr, "raftspec logs")
	show := map[sim.Topic]bool{}
	if *topics != "" {
		for _, name := range strings.Split(*topics, ",") {
			t, err := sim.ParseTopic(strings.TrimSpace(name))
			if err != nil {
				return fail(2, "-topic: %v", err)
			}
			show[t] = true
		}
	}
	if *width < 8 || *width > 500 {
		return fail(2, "-width must be in [8, 500], not %d", *width)
	}
	var in io.Reader = os.Stdin
	switch fs.NArg() {
	case 0:
	case 1:
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			return fail(2, "%v", err)
		}
		defer f.Close()
		in = f
	default:
		return fail(2, "one log file at most, not %q", fs.Args())
	}
	lines, err := readEventLog(in)
	if err != nil {
		return fail(1, "%v", err)
	}
	if len(lines) == 0 {
		return fail(1, "no event lines to lay out (an empty log?)")
	}
	writeColumns(stdout, lines, show, *width)
	return 0
}

// readEventLog parses every line of an event log.
func readEventLog(r io.Reader) ([]sim.Line, error) {
	var lines []sim.Line
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for k := 1; sc.Scan(); k++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		ln, err := sim.ParseLine(sc.Text())
		if err != nil {
			return nil, fmt.Errorf("line %d: %v", k, err)
		}
		lines = append(lines, ln)
	}
	return lines, sc.Err()
}

// writeColumns prints the lines whose topic show holds (all if show is
// empty), each in its server's column.
func writeColumns(w io.Writer, lines []sim.Line, show map[sim.Topic]bool, width int) {
	servers := 0
	for _, ln := range lines {
		servers = max(servers, ln.Node+1)
	}
	bw := bufio.NewWriter(w)
	defer bw.Flush()
	var head strings.Builder
	fmt.Fprintf(&head, "%12s", "time")
	for i := range servers {
		fmt.Fprintf(&head, "  %-*s", width, fmt.Sprintf("n%d", i))
	}
	fmt.Fprintln(bw, strings.TrimRight(head.String(), " "))
	for _, ln := range lines {
		if len(show) > 0 && !show[ln.Topic] {
			continue
		}
		fmt.Fprintf(bw, "%12.6f", ln.Seconds)
		if ln.Node < 0 {
			fmt.Fprintf(bw, "  == %s\n", ln.Text)
			continue
		}
		for range ln.Node {
			fmt.Fprintf(bw, "  %*s", width, "")
		}
		fmt.Fprintf(bw, "  %s\n", clip(ln.Text, width))
	}
}

// clip shortens s to width runes, marking a cut with an ellipsis.
func clip(s string, width int) string {
	if utf8.RuneCountInString(s) <= width {
		return s
	}
	r := []rune(s)
	return string(r[:width-1]) + "…"
}
