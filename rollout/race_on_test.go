//go:build race

package rollout_test

// raceEnabled: the race detector keeps shadow memory it never returns,
// so memory figures under it say nothing about perch.
const raceEnabled = true
