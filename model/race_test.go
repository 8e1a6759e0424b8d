//go:build race

package model

// raceEnabled: the race detector slows the judge about tenfold; the
// statistical tests then play fewer runs (it checks concurrency, the
// normal run the statistics).
const raceEnabled = true
