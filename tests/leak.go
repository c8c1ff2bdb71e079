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

// goroutineIDs returns the ids of all live goroutines: what a scenario on
// the wall clock had before it started, to tell its leaks from others'.
func goroutineIDs() map[string]bool {
	ids := map[string]bool{}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		if m := goroutineHeader.FindStringSubmatch(g); m != nil {
			ids[m[1]] = true
		}
	}
	return ids
}

// leaks returns the goroutines a scenario left running, other than the
// caller, each as its status and top frames, identical ones merged with a
// count. In a synctest bubble they are the bubble's goroutines, less the
// bubble's own machinery (the goroutine that runs the bubble and
// testing's wrapper around the test function): the runtime's stack dump
// names the bubble a goroutine belongs to. On the wall clock they are the
// goroutines that did not exist before the scenario (before), which is
// right as long as no other test runs at the same time.
func leaks(before map[string]bool) []string {
	self := make([]byte, 256)
	self = self[:runtime.Stack(self, false)]
	m := goroutineHeader.FindStringSubmatch(string(self))
	if m == nil {
		return nil
	}
	myID, myBubble := m[1], bubbleOf(m[2])
	counts := map[string]int{}
	for _, g := range strings.Split(allStacks(), "\n\n") {
		m := goroutineHeader.FindStringSubmatch(g)
		if m == nil || m[1] == myID {
			continue
		}
		if myBubble != "" && bubbleOf(m[2]) != myBubble || myBubble == "" && before[m[1]] {
			continue
		}
		if strings.Contains(g, "synctest.testingSynctestTest") || strings.Contains(g, "internal/synctest.Run(") {
			continue
		}
		counts[fmt.Sprintf("[%s] %s", waitStatus(m[2]), topFrames(g, 3))]++
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
