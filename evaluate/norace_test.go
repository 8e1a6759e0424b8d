//go:build !race

package evaluate

const testRuns = 40
