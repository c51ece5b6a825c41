//go:build !race

package main

// raceMemoryFactor is 1 outside the race detector (see race_test.go).
const raceMemoryFactor = 1
