//go:build !race

package evaluate

const testRuns = 40

const raceEnabled = false
