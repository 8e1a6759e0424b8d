package sim

import (
	"testing"
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/metrics"
)

func BenchmarkSimulatedDay(b *testing.B) {
	sc, err := LoadScenario("healthy")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		clk := clock.NewManual(epoch)
		s, err := newSim(Options{Clock: clk, Scenario: sc}, discard{})
		if err != nil {
			b.Fatal(err)
		}
		for range 24 {
			clk.Advance(time.Hour)
			s.Sync()
		}
	}
}

// discard is a sink that keeps nothing.
type discard struct{}

func (discard) Put(metrics.Datum) {}
