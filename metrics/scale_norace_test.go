//go:build !race

package metrics

// truthScale divides the truth test's rate: 1, the GPU rate, normally.
const truthScale = 1

// raceEnabled says the race detector is on.
const raceEnabled = false
