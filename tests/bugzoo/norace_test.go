//go:build !race

package bugzoo_test

const raceOn = false
