package lambda

import (
	"time"

	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/scenario"
)

var epoch = time.Date(2026, 11, 26, 7, 0, 0, 0, time.UTC)

// discard is a sink that keeps nothing.
type discard struct{}

func (discard) Put(metrics.Datum) {}

// seeded is a Lambda seeded with a scenario's functions, as the simulator
// seeds it, at epoch.
func seeded(sc *scenario.Scenario) *Service {
	l := New("us-east-1", "123456789012", sc.Seed, func() time.Time { return epoch })
	l.StartTraffic(discard{}, sc.Seed, epoch, sc.History.D(), sc.PublishDelay.D())
	for i := range sc.Lambdas {
		l.SeedFunction(&sc.Lambdas[i], sc.Seed, epoch)
	}
	l.AdvanceTraffic(epoch)
	return l
}
