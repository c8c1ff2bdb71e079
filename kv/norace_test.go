//go:build !race

package kv_test

const raceOn = false
