//go:build race

package aws

// raceEnabled: under the race detector sync.Pool keeps nothing and every
// allocation is instrumented, so allocation figures run about twice as
// high and say little about perch.
const raceEnabled = true
