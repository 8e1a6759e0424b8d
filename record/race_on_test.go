//go:build race

package record

// raceEnabled: the race detector makes decoding hundreds of megabytes
// take minutes, and its allocation figures say little about perch.
const raceEnabled = true
