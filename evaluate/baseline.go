package evaluate

import (
	"fmt"
	"time"

	"github.com/perch-dev/perch/model"
)

// Alarm is a fixed-threshold CloudWatch alarm on the canary's 5xx count:
// it fires when the errors summed over Periods consecutive 60 s periods
// reach Threshold. A period with requests but no 5xx datapoint counts as
// zero (ALB publishes none), and so does a period with no data at all
// (treat_missing_data: notBreaching), which is how such alarms are set up
// to stay quiet at night.
type Alarm struct {
	Name      string  `json:"name"`
	Periods   int     `json:"periods"`
	Threshold float64 `json:"threshold"`
}

// SeedAlarms are the fixed-threshold alarms perch is compared with: the
// ones the project's seed names for a canary target group.
var SeedAlarms = []Alarm{
	{Name: "5xx >= 5 in one 60 s period", Periods: 1, Threshold: 5},
	{Name: "5xx >= 10 over two periods", Periods: 2, Threshold: 10},
}

// baseline evaluates alarms on each period once, newest last, as
// CloudWatch evaluates an alarm every minute on the newest datapoints.
type baseline struct {
	alarms []Alarm
	errors map[time.Time]float64 // canary 5xx by period start
	newest time.Time             // the newest period evaluated
	// started: observe has been called; the history was seen then.
	started bool
}

func newBaseline(alarms []Alarm) *baseline {
	return &baseline{alarms: alarms, errors: map[time.Time]float64{}}
}

// breach is a period at which an alarm fired.
type breach struct {
	period time.Time // start of the newest period the alarm looked at
	alarm  Alarm
	sum    float64
}

func (b breach) String() string {
	return fmt.Sprintf("alarm %q: %g errors in the %d period(s) ending %s", b.alarm.Name, b.sum, b.alarm.Periods,
		b.period.Add(time.Minute).UTC().Format("15:04"))
}

// observe takes the canary's 5xx points read so far and evaluates every
// period newer than the last one evaluated. On the first call only the
// newest period is evaluated: an alarm created at attach time does not
// judge the history. It returns the first breach, if any.
func (b *baseline) observe(errs []model.Point) (breach, bool) {
	first := !b.started
	b.started = true
	var fresh []time.Time
	for _, p := range errs {
		b.errors[p.T] = p.V
		if b.newest.IsZero() || p.T.After(b.newest) {
			fresh = append(fresh, p.T)
		}
	}
	if len(fresh) == 0 {
		return breach{}, false
	}
	from, to := fresh[0], fresh[len(fresh)-1]
	switch {
	case first:
		from = to
	case !b.newest.IsZero():
		// Minutes without a datapoint count as zero errors: an alarm
		// ticks every minute whether or not there is data.
		from = b.newest.Add(time.Minute)
	}
	b.newest = to
	for t := from; !t.After(to); t = t.Add(time.Minute) {
		for _, a := range b.alarms {
			var sum float64
			for k := 0; k < a.Periods; k++ {
				sum += b.errors[t.Add(-time.Duration(k)*time.Minute)]
			}
			if sum >= a.Threshold {
				return breach{period: t, alarm: a, sum: sum}, true
			}
		}
	}
	return breach{}, false
}
