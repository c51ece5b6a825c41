//go:build race

package main

// raceMemoryFactor scales the memory bounds of tests built with -race: the
// race detector's shadow memory multiplies a program's footprint ("memory
// usage may increase by 5-10x", https://go.dev/doc/articles/race_detector).
const raceMemoryFactor = 5
