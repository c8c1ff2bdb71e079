package sim

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode"

	"github.com/raftspec/raftspec/raft"
)

// The event log: one line per event and per change an event made, in the
// order they happened:
//
//	    1.234567 n2 election  candidate term 3
//	    1.240112 n0 append    recv AppendEntries n2→n0 term 3 prev 4/2 entries 1 commit 4
//	    1.250000 -- net       heal the network is reliable and whole; ...
//
// The first column is the virtual time in seconds (to the microsecond),
// the second the server ("--": the whole cluster), the third the topic,
// then what happened and its details. raftspec logs reads this format
// back (ParseLine) and lays it out one column per server.

// Topic is what a line of the event log is about; raftspec logs filters
// by it.
type Topic uint8

const (
	topicElection Topic = iota // votes, terms, roles
	topicAppend                // AppendEntries and replies
	topicCommit                // commitIndex moves, applies
	topicPersist               // saves to stable storage
	topicSnapshot              // snapshots taken, sent, installed
	topicClient                // proposals
	topicCrash                 // crashes and restarts
	topicNet                   // partitions, losses, healing
	topicTick                  // clock ticks (logged only when they fail)
	numTopics
)

var topicNames = [numTopics]string{"election", "append", "commit", "persist", "snapshot", "client", "crash", "net", "tick"}

func (t Topic) String() string {
	if t < numTopics {
		return topicNames[t]
	}
	return "topic(" + strconv.Itoa(int(t)) + ")"
}

// TopicNames lists the topics in the order of the log's legend.
func TopicNames() []string { return append([]string(nil), topicNames[:]...) }

// ParseTopic is the Topic named name.
func ParseTopic(name string) (Topic, error) {
	for t, n := range topicNames {
		if n == name {
			return Topic(t), nil
		}
	}
	return 0, fmt.Errorf("unknown topic %q (known: %s)", name, strings.Join(topicNames[:], ", "))
}

// topicOf is the topic of a message of kind k.
func topicOf(k raft.MsgKind) Topic {
	switch k {
	case raft.MsgRequestVote, raft.MsgRequestVoteReply:
		return topicElection
	case raft.MsgInstallSnapshot, raft.MsgInstallSnapshotReply:
		return topicSnapshot
	}
	return topicAppend
}

// logger writes the event log to w; with no w it formats nothing (a run
// that is not logged pays nothing for its log), and a failure's event is
// found by replaying the seed with a log.
type logger struct {
	w    io.Writer
	buf  []byte
	last string // the last line written
	err  error  // the first error writing to w: the log is incomplete
}

func (l *logger) line(s *Sim, node int, t Topic, what, format string, args ...any) {
	if l.w == nil {
		return
	}
	b := l.head(s.now, node, t)
	b = append(b, what...)
	if format != "" {
		b = append(b, ' ')
		b = fmt.Appendf(b, format, args...)
	}
	l.flush(b)
}

func (l *logger) head(now int64, node int, t Topic) []byte {
	b := l.buf[:0]
	b = fmt.Appendf(b, "%13.6f ", float64(now)/1e6)
	if node < 0 {
		b = append(b, "--"...)
	} else {
		b = append(b, 'n')
		b = strconv.AppendInt(b, int64(node), 10)
	}
	b = append(b, ' ')
	b = fmt.Appendf(b, "%-8s ", t)
	return b
}

func (l *logger) flush(b []byte) {
	b = append(b, '\n')
	l.buf = b
	l.last = string(b[:len(b)-1])
	if _, err := l.w.Write(b); err != nil && l.err == nil {
		l.err = err
	}
}

// msg logs what happened to message m at its receiver (or, if lost, its
// sender).
func (l *logger) msg(s *Sim, m *raft.Message, what string) {
	if l.w == nil {
		return
	}
	node := m.To
	if strings.HasPrefix(what, "lost") {
		node = m.From
	}
	b := l.head(s.now, node, topicOf(m.Kind))
	b = append(b, what...)
	b = append(b, ' ')
	b = append(b, m.String()...)
	l.flush(b)
}

// applied logs what node i's service applied from one Output.
func (l *logger) applied(s *Sim, i int, msgs []raft.Apply) {
	if l.w == nil {
		return
	}
	first, last := 0, 0
	for _, m := range msgs {
		if !m.IsSnapshot {
			if first == 0 {
				first = m.Index
			}
			last = m.Index
		}
	}
	if first == 0 {
		return
	}
	if first == last {
		l.line(s, i, topicCommit, "apply", "%d", first)
		return
	}
	l.line(s, i, topicCommit, "apply", "%d..%d", first, last)
}

// Line is one parsed line of an event log.
type Line struct {
	Seconds float64 // virtual time
	Node    int     // -1: the whole cluster
	Topic   Topic
	Text    string // what happened, with its details
}

// ParseLine reads one line of an event log back.
func ParseLine(s string) (Line, error) {
	f := strings.Fields(s)
	if len(f) < 4 {
		return Line{}, fmt.Errorf("not an event log line (want time, server, topic, event): %q", s)
	}
	var ln Line
	var err error
	if ln.Seconds, err = strconv.ParseFloat(f[0], 64); err != nil {
		return Line{}, fmt.Errorf("bad time %q in %q", f[0], s)
	}
	switch {
	case f[1] == "--":
		ln.Node = -1
	case strings.HasPrefix(f[1], "n"):
		if ln.Node, err = strconv.Atoi(f[1][1:]); err != nil || ln.Node < 0 || ln.Node >= MaxServers {
			return Line{}, fmt.Errorf("bad server %q in %q", f[1], s)
		}
	default:
		return Line{}, fmt.Errorf("bad server %q in %q", f[1], s)
	}
	if ln.Topic, err = ParseTopic(f[2]); err != nil {
		return Line{}, fmt.Errorf("%v in %q", err, s)
	}
	// The text is the rest of the line after the topic's column.
	rest := s
	for range 3 {
		rest = strings.TrimLeftFunc(rest, unicode.IsSpace)
		rest = rest[strings.IndexFunc(rest, unicode.IsSpace):] // there are four fields
	}
	ln.Text = strings.TrimLeftFunc(rest, unicode.IsSpace)
	return ln, nil
}
