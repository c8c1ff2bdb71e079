package tests

import (
	"fmt"
	"time"

	"github.com/raftspec/raftspec/raftapi"
)

// snapshotInterval is how often (in applied entries) the applier asks Raft
// to snapshot when ClusterOptions.Snapshot is set, as the lab's 3D tester.
const snapshotInterval = 10

// drainAfterKill is how long the applier of a crashed incarnation keeps
// receiving (and discarding) on its applyCh.
const drainAfterKill = 2 * time.Second

// snapshotState is what the applier puts in a snapshot: the index it
// covers and every command applied up to it (Log[k] is index k+1).
type snapshotState struct {
	Index int
	Log   []any
}

// applier is the service of incarnation rf of server i: it checks and
// records what arrives on applyCh until the incarnation crashes. While
// HoldApplier holds it, it takes nothing from applyCh, as a slow service.
func (c *Cluster) applier(i int, rf raftapi.Raft, applyCh chan raftapi.ApplyMsg, stop, nudge chan struct{}) {
	defer c.appliers.Done()
	for {
		in, hold := applyCh, c.hold(i)
		if hold != nil {
			in = nil // a nil channel: no receive while held
		}
		select {
		case m := <-in:
			select {
			case <-stop:
				continue // a dead incarnation's applies no longer count
			default:
			}
			if msg := c.apply(i, rf, m, stop); msg != "" {
				c.fail(msg)
			}
		case <-hold: // released
		case <-nudge: // held: look at holds again
		case <-stop:
			drain(applyCh)
			return
		}
	}
}

// drain receives and discards on the applyCh of a crashed incarnation for
// drainAfterKill, so an implementation caught mid-send by Kill can notice
// it was killed instead of blocking forever.
func drain(applyCh chan raftapi.ApplyMsg) {
	timeout := time.After(drainAfterKill)
	for {
		select {
		case _, open := <-applyCh:
			if !open {
				return // the lab allows Kill to close applyCh
			}
		case <-timeout:
			return
		}
	}
}

// hold is the channel that releases server i's applier, or nil if it is
// not held.
func (c *Cluster) hold(i int) chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.holds[i]
}

// HoldApplier makes the service of server i stop taking ApplyMsgs, as a
// slow service would: Raft's sends on applyCh block until ReleaseApplier.
// Raft must go on answering RPCs meanwhile (it must not hold its lock
// while it sends on applyCh). It returns once the applier has seen the
// hold, so nothing more is taken after it; it does nothing if server i is
// not running. A restart releases the hold.
func (c *Cluster) HoldApplier(i int) {
	c.mu.Lock()
	if c.holds[i] != nil || c.stops[i] == nil {
		c.mu.Unlock()
		return
	}
	c.holds[i] = make(chan struct{})
	nudge, stop := c.nudges[i], c.stops[i]
	c.mu.Unlock()
	select {
	case nudge <- struct{}{}:
	case <-stop:
	}
}

// ReleaseApplier lets the service of server i take ApplyMsgs again.
func (c *Cluster) ReleaseApplier(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.holds[i] != nil {
		close(c.holds[i])
		c.holds[i] = nil
	}
}

// apply checks one ApplyMsg of incarnation stop of server i and records
// it. It returns the lab-style apply error, or "".
func (c *Cluster) apply(i int, rf raftapi.Raft, m raftapi.ApplyMsg, stop chan struct{}) string {
	switch {
	case m.SnapshotValid:
		msg, live := c.ingest(i, stop, m.Snapshot, m.SnapshotIndex)
		if msg == "" && live {
			c.obs.applySnapshot(i, m.SnapshotIndex, m.SnapshotTerm)
		}
		return msg
	case !m.CommandValid:
		return "" // neither: the lab ignores such messages
	}
	if msg, live := c.checkApply(i, stop, m.CommandIndex, m.Command); msg != "" || !live {
		return msg
	}
	c.obs.applyCommand(i, m.CommandIndex, m.Command)
	if c.opts.Snapshot && (m.CommandIndex+1)%snapshotInterval == 0 {
		rf.Snapshot(m.CommandIndex, c.encodeSnapshot(i, m.CommandIndex))
	}
	return ""
}

// checkApply records that incarnation stop of server i applied cmd at
// index, after checking that it comes right after the server's last
// applied index, and that no server applied a different command at that
// index. live is false if the incarnation has crashed: its applier may
// have taken the message just before, and what it applied must not touch
// the record of the next incarnation.
func (c *Cluster) checkApply(i int, stop chan struct{}, index int, cmd any) (msg string, live bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stops[i] != stop {
		return "", false
	}
	if index != c.lastApplied[i]+1 {
		return fmt.Sprintf("apply error: server %v apply out of order %v (want index %v)", i, index, c.lastApplied[i]+1), true
	}
	for j, log := range c.logs {
		if old, ok := log[index]; ok && !sameCommand(old, cmd) {
			return fmt.Sprintf("apply error: commit index=%v server=%v %v != server=%v %v", index, i, brief(cmd), j, brief(old)), true
		}
	}
	c.logs[i][index] = cmd
	c.lastApplied[i] = index
	c.maxIndex = max(c.maxIndex, index)
	return "", true
}

// encodeSnapshot is the service's snapshot of server i through index.
func (c *Cluster) encodeSnapshot(i, index int) []byte {
	c.mu.Lock()
	s := snapshotState{Index: index, Log: make([]any, index)}
	for k := 1; k <= index; k++ {
		s.Log[k-1] = c.logs[i][k]
	}
	c.mu.Unlock()
	b, err := encode(s)
	if err != nil {
		c.fail(fmt.Sprintf("server %d: encoding the service's snapshot: %v", i, err))
	}
	return b
}

// ingestSnapshot replaces server i's applied state with the snapshot it
// restarts from (claimed -1: whatever index it holds), before its new
// incarnation starts.
func (c *Cluster) ingestSnapshot(i int, snap []byte, claimed int) string {
	msg, _ := c.ingest(i, nil, snap, claimed)
	return msg
}

// ingest replaces the applied state of incarnation stop of server i (nil:
// none yet, at restart) with the snapshot's. claimed is the index the
// ApplyMsg says the snapshot covers, which it must hold. The snapshot must
// not be older than what the server applied (raft-bugs.md M19), and the
// commands it holds are checked against every other server's like applied
// ones. live is false if the incarnation has crashed (see checkApply).
func (c *Cluster) ingest(i int, stop chan struct{}, snap []byte, claimed int) (msg string, live bool) {
	var s snapshotState
	if err := decode(snap, &s); err != nil {
		return fmt.Sprintf("server %v: snapshot does not decode: %v", i, err), true
	}
	if len(s.Log) != s.Index {
		return fmt.Sprintf("server %v: snapshot for index %v holds %v commands", i, s.Index, len(s.Log)), true
	}
	if claimed >= 0 && s.Index != claimed {
		return fmt.Sprintf("server %v: snapshot delivered as index %v decodes to index %v", i, claimed, s.Index), true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.stops[i] != stop {
		return "", false
	}
	if s.Index < c.lastApplied[i] {
		return fmt.Sprintf("server %v: snapshot at index %v moves the applied state back from %v", i, s.Index, c.lastApplied[i]), true
	}
	for k, cmd := range s.Log {
		index := k + 1
		for j, log := range c.logs {
			if old, ok := log[index]; ok && !sameCommand(old, cmd) {
				return fmt.Sprintf("apply error: snapshot commit index=%v server=%v %v != server=%v %v", index, i, brief(cmd), j, brief(old)), true
			}
		}
	}
	log := make(map[int]any, len(s.Log))
	for k, cmd := range s.Log {
		log[k+1] = cmd
	}
	c.logs[i] = log
	c.lastApplied[i] = s.Index
	c.maxIndex = max(c.maxIndex, s.Index)
	return "", true
}
