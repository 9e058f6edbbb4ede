//go:build race

package metrics

// truthScale divides the truth test's rate under the race detector, which
// slows every memory access tenfold or more; the test stays the same.
const truthScale = 200

// raceEnabled says the race detector is on.
const raceEnabled = true
