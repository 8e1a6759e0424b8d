package sim_test

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/sim/simtest"
)

// The built-in scenarios' alarms, evaluated by the simulated CloudWatch
// on the traffic model's data: a bad canary trips its alarm within a few
// minutes of the event; a healthy one stays OK.
func TestScenarioAlarms(t *testing.T) {
	for _, c := range []struct {
		scenario, alarm string
		want            cwtypes.StateValue
	}{
		{"healthy", "checkout-canary-5xx", cwtypes.StateValueOk},
		{"error-spike", "checkout-canary-5xx", cwtypes.StateValueAlarm},
		{"latency-regression", "checkout-canary-p99", cwtypes.StateValueAlarm},
	} {
		t.Run(c.scenario, func(t *testing.T) {
			env := simtest.Start(t, simtest.Options{ScenarioName: c.scenario})
			if got := env.Target(t, "checkout").Alarms; len(got) != 1 || got[0] != c.alarm {
				t.Fatalf("manifest alarms = %v", got)
			}
			cw := cloudwatch.NewFromConfig(env.AWS)
			state := func() cwtypes.MetricAlarm {
				out, err := cw.DescribeAlarms(context.Background(), &cloudwatch.DescribeAlarmsInput{AlarmNames: []string{c.alarm}})
				if err != nil || len(out.MetricAlarms) != 1 {
					t.Fatalf("DescribeAlarms: %v %+v", err, out)
				}
				return out.MetricAlarms[0]
			}
			if s := state(); s.StateValue != cwtypes.StateValueOk {
				t.Fatalf("%s at start: %s (%s)", c.alarm, s.StateValue, aws.ToString(s.StateReason))
			}
			reached := false
			for range 15 {
				env.Advance(time.Minute)
				if state().StateValue == c.want && c.want != cwtypes.StateValueOk {
					reached = true
					break
				}
				if s := state(); c.want == cwtypes.StateValueOk && s.StateValue != c.want {
					t.Fatalf("%s went %s: %s", c.alarm, s.StateValue, aws.ToString(s.StateReason))
				}
			}
			if c.want != cwtypes.StateValueOk && !reached {
				s := state()
				t.Fatalf("%s still %s 15 minutes in: %s", c.alarm, s.StateValue, aws.ToString(s.StateReason))
			}
		})
	}
}
