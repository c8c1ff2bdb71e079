package tests

// newObserver makes and installs a fresh invariants Observer. Stub until
// invariants.NewObserver lands.
func newObserver() (observerAPI, func()) { return nil, func() {} }
