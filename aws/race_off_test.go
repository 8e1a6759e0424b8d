//go:build !race

package aws

const raceEnabled = false
