//go:build race

package evaluate

// The race detector slows loopback HTTP about tenfold; under it the
// statistical tests play fewer seeds (it checks the concurrency, the
// normal run the statistics).
const testRuns = 10

const raceEnabled = true
