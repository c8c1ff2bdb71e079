package tests

import (
	"fmt"
	"regexp"
	"runtime"
	"sort"
	"strings"
)

// goroutineHeader matches the first line of a goroutine in a stack dump:
// "goroutine 7 [chan receive (durable), synctest bubble 3]:".
var goroutineHeader = regexp.MustCompile(`^goroutine (\d+) \[([^\]]*)\]:`)

// bubbleOf returns the synctest bubble named in a goroutine's status, or "".
func bubbleOf(status string) string {
	_, b, ok := strings.Cut(status, "synctest bubble ")
	if !ok {
		return ""
	}
	b, _, _ = strings.Cut(b, ",")
	return b
}

// allStacks returns the stacks of all goroutines.
func allStacks() string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// bubbleLeaks returns the goroutines of the caller's synctest bubble other
// than the caller and the bubble's own machinery (the goroutine that runs
// the bubble and testing's wrapper around the test function), each as its
// status and top frames, identical ones merged with a count. Outside a
// bubble it returns nil: without a bubble there is no telling whose
// goroutine is whose.
//
// The runtime's stack dump names the bubble a goroutine belongs to, and
// that is how this tells the scenario's goroutines from other tests'.
func bubbleLeaks() []string {
	self := make([]byte, 256)
	self = self[:runtime.Stack(self, false)]
	m := goroutineHeader.FindStringSubmatch(string(self))
	if m == nil {
		return nil
	}
	myID, myBubble := m[1], bubbleOf(m[2])
	if myBubble == "" {
		return nil
	}
	counts := map[string]int{}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		m := goroutineHeader.FindStringSubmatch(g)
		if m == nil || m[1] == myID || bubbleOf(m[2]) != myBubble {
			continue
		}
		if strings.Contains(g, "synctest.testingSynctestTest") || strings.Contains(g, "internal/synctest.Run(") {
			continue
		}
		status := waitStatus(m[2])
		counts[fmt.Sprintf("[%s] %s", status, topFrames(g, 3))]++
	}
	var leaks []string
	for s, n := range counts {
		leaks = append(leaks, fmt.Sprintf("%d × %s", n, s))
	}
	sort.Strings(leaks)
	return leaks
}

// waitMinutes is the time a goroutine has waited, in a dump's header.
var waitMinutes = regexp.MustCompile(`, \d+ minutes?`)

// waitStatus is a goroutine's status from its dump header ("chan
// receive"), without its bubble and without how long it has waited: one
// place where goroutines wait is one kind of leak, however long each has
// waited.
func waitStatus(header string) string {
	status, _, _ := strings.Cut(header, ", synctest bubble")
	return waitMinutes.ReplaceAllString(status, "")
}

// topFrames returns the first n frames of goroutine dump g that are not in
// the runtime, as "function (file:line) ← caller (file:line)".
func topFrames(g string, n int) string {
	lines := strings.Split(g, "\n")[1:]
	var frames []string
	for k := 0; k+1 < len(lines) && len(frames) < n; k += 2 {
		fn := strings.TrimSpace(lines[k])
		if strings.HasPrefix(fn, "runtime.") || strings.HasPrefix(fn, "created by ") {
			continue
		}
		if i := strings.LastIndex(fn, "("); i > 0 {
			fn = fn[:i]
		}
		loc := strings.TrimSpace(lines[k+1])
		if i := strings.LastIndex(loc, " +0x"); i > 0 {
			loc = loc[:i]
		}
		if i := strings.LastIndex(loc, "/"); i >= 0 {
			loc = loc[i+1:]
		}
		frames = append(frames, fmt.Sprintf("%s (%s)", fn, loc))
	}
	return strings.Join(frames, " ← ")
}
