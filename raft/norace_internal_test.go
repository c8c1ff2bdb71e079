//go:build !race

package raft

const raceOn = false
