package tests

import "github.com/raftspec/raftspec/invariants"

// newObserver makes a fresh invariants Observer and installs it as the
// process-wide current one; restore uninstalls it.
func newObserver() (observerAPI, func()) {
	o := invariants.NewObserver()
	return o, invariants.Install(o)
}
