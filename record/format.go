// Package record writes what a cockpit saw and did to a compressed JSONL
// file, reads it back, and plays it as a read-only engine for the cockpit
// (perch replay).
//
// The file is gzip-compressed JSON lines: one header line, then one line
// per snapshot or action in the order they happened. Snapshots are the
// engine's own (model.Snapshot, whose Signals are not in its JSON); their
// metric points are written separately and only when new or revised, so a
// poll adds a few points rather than hours of series. Nothing in a
// snapshot is a credential, and nothing else is written.
package record

import (
	"time"

	"github.com/perch-dev/perch/model"
)

// FormatName and FormatVersion identify the file; a reader refuses others.
const (
	FormatName    = "perch-recording"
	FormatVersion = 1
)

// Header is the first line of a recording.
type Header struct {
	Format  string       `json:"format"`
	Version int          `json:"version"`
	Created time.Time    `json:"created"`
	Target  model.Target `json:"target"`
	// Title is what the cockpit's header said (demo, scenario, speed).
	Title string `json:"title,omitempty"`
	// Poll is the engine's poll interval, for the replay's staleness marks.
	Poll time.Duration `json:"poll_ns,omitempty"`
}

// Line kinds.
const (
	kindSnapshot = "snapshot"
	kindAction   = "action"
)

// line is every line after the header.
type line struct {
	Kind string    `json:"kind"`
	At   time.Time `json:"at"`

	Snapshot *model.Snapshot `json:"snapshot,omitempty"`
	Signals  []seriesDelta   `json:"signals,omitempty"`

	Intent *model.Intent `json:"intent,omitempty"`
	Result *model.Result `json:"result,omitempty"`
}

// seriesDelta is what changed in one side's signal since the previous
// snapshot line: points before From are gone, Points are new or revised.
type seriesDelta struct {
	Side   model.Side   `json:"side"`
	Signal model.Signal `json:"signal"`
	// From is the oldest point kept, in Unix milliseconds; 0 keeps all.
	From int64 `json:"from,omitempty"`
	// Points are [Unix milliseconds, value] pairs.
	Points [][2]float64 `json:"points,omitempty"`
	// Gone says the engine no longer has this signal at all.
	Gone bool `json:"gone,omitempty"`
}

type seriesKey struct {
	side   model.Side
	signal model.Signal
}

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }
