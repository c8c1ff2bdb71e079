package tester

// Config stands in for the lab's tester configuration, which test.go
// uses.
type Config struct{}
