// Package simtest starts perch's simulated AWS for other packages' tests:
// one call gives a loopback endpoint, the Sim for in-process checks, the
// manual clock that drives it, and an aws.Config pointed at it.
package simtest

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim"
)

// Epoch is the default start of simulated time: fixed, so that ARNs,
// request IDs and metric data are the same on every run.
var Epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// Env is a running simulator for one test.
type Env struct {
	URL      string
	Sim      *sim.Sim
	Clock    *clock.Manual
	Manifest sim.Manifest
	// AWS has region us-east-1, static credentials test/test and
	// BaseEndpoint URL. It is built by hand rather than with
	// config.LoadDefaultConfig so that no environment variable or shared
	// config file on the machine can redirect it.
	AWS aws.Config
}

// Options are sim.Options plus a scenario by name.
type Options struct {
	sim.Options
	// ScenarioName is loaded with sim.LoadScenario when Options.Scenario is
	// nil; both empty means "healthy".
	ScenarioName string
}

// Start runs a simulator on 127.0.0.1 until the test ends. When
// opts.Clock is nil, a clock.Manual starting at Epoch is used and returned
// in Env.Clock; a non-Manual clock is passed through and Env.Clock is nil.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	var manual *clock.Manual
	if opts.Clock == nil {
		manual = clock.NewManual(Epoch)
		opts.Clock = manual
	} else if m, ok := opts.Clock.(*clock.Manual); ok {
		manual = m
	}
	if opts.Scenario == nil {
		name := opts.ScenarioName
		if name == "" {
			name = "healthy"
		}
		sc, err := sim.LoadScenario(name)
		if err != nil {
			t.Fatalf("simtest: %v", err)
		}
		opts.Scenario = sc
	}
	ctx, cancel := context.WithCancel(context.Background())
	run, err := sim.Start(ctx, "127.0.0.1:0", opts.Options)
	if err != nil {
		cancel()
		t.Fatalf("simtest: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		_ = run.Close()
	})
	return &Env{
		URL:      run.URL,
		Sim:      run.Sim,
		Clock:    manual,
		Manifest: run.Sim.Manifest(run.URL),
		AWS:      Config(run.URL),
	}
}

// Config returns an aws.Config for a simulator at url.
func Config(url string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("test", "test", ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Timeout: 30 * time.Second},
	}
}

// Advance moves the simulated clock forward; the simulator catches up
// (publishes newly visible periods) on its next request.
func (e *Env) Advance(d time.Duration) {
	if e.Clock == nil {
		panic("simtest: Advance needs the manual clock (Options.Clock was not a *clock.Manual)")
	}
	e.Clock.Advance(d)
}

// Target returns the manifest entry with this name, failing the test if
// there is none.
func (e *Env) Target(t testing.TB, name string) sim.ManifestTarget {
	t.Helper()
	for _, tg := range e.Manifest.Targets {
		if tg.Name == name {
			return tg
		}
	}
	t.Fatalf("simtest: no target %q in the manifest", name)
	return sim.ManifestTarget{}
}
