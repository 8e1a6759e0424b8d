package logs

import (
	"time"

	"github.com/perch-dev/perch/sim/metrics"
)

// Counts is what the log generator needs of the metric store: each side's
// published request and error counts per period, so that the lines follow
// the traffic models exactly (every 5xx has its ERROR line) without this
// package knowing the models. *metrics.Store satisfies it.
type Counts interface {
	Query(namespace, name string, dims []metrics.Dimension, unit string, start, end time.Time) []metrics.Datum
}
