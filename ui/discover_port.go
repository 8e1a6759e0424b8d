package ui

import (
	"context"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/rollout"
)

// Discovery is what the list of an account's canaries needs from the rest
// of perch: scanning, opening a cockpit, switching region or profile.
// Every call but Scope, Cached and Known does I/O and is run in a command.
type Discovery interface {
	// Scope is what the next scan covers.
	Scope() DiscoverScope
	// Cached is the newest scan of the scope, from this run or the cache.
	Cached() (DiscoverResult, bool)
	// Scan scans the scope, telling progress how it goes (from other
	// goroutines).
	Scan(ctx context.Context, progress func(model.ScanProgress)) (DiscoverResult, error)
	// Open opens the cockpit's session on a found canary; OpenTarget on a
	// perch.yaml target by name.
	Open(ctx context.Context, f model.Found) (Opened, error)
	OpenTarget(ctx context.Context, name string) (Opened, error)
	// SetRegion and SetProfile change the scope (region may be a comma
	// list).
	SetRegion(region string) error
	SetProfile(profile string) error
	// Known are the values the command line completes.
	Known() DiscoverKnown
}

// DiscoverScope is a profile and the regions scanned in it.
type DiscoverScope struct {
	Profile string
	Regions []string
	// Production: the profile (or account) is production by perch.yaml's
	// pattern; the screen says PROD.
	Production bool
}

// DiscoverResult is one scan.
type DiscoverResult struct {
	Found []model.Found
	At    time.Time // when the scan finished
	Calls int64     // AWS calls it made (0 for a cached result)
}

// DiscoverKnown are the names the command line completes.
type DiscoverKnown struct {
	Regions, Profiles, Targets []string
}

// Opened is a cockpit's session: the engine, the cockpit's options, and
// how to stop it (the engine first, then its audit log), which blocks.
type Opened struct {
	Engine  rollout.Control
	Options Options
	Close   func()
}
