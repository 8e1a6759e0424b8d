package aws

import (
	"context"
	"fmt"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"
	cwtypes "github.com/aws/aws-sdk-go-v2/service/cloudwatch/types"

	"github.com/perch-dev/perch/model"
)

// maxAlarmNames is DescribeAlarms' limit on AlarmNames per call.
const maxAlarmNames = 100

// Alarms reads the state of CloudWatch alarms named in perch's config.
type Alarms struct {
	api cwAPI
	// writer is separate from cwAPI so read-only fakes need not grow a
	// write; only the rollback drill writes.
	writer alarmWriter
}

type alarmWriter interface {
	SetAlarmState(ctx context.Context, in *cloudwatch.SetAlarmStateInput, optFns ...func(*cloudwatch.Options)) (*cloudwatch.SetAlarmStateOutput, error)
}

// NewAlarms builds an alarm reader on a CloudWatch client from cfg.
func NewAlarms(cfg awssdk.Config) *Alarms {
	cw := newCloudWatch(cfg)
	return &Alarms{api: cw, writer: cw}
}

// SetAlarmState forces an alarm's state, as the rollback drill does. A
// metric alarm returns to what its data says at its next evaluation,
// usually within a minute, so a caller that needs the state to hold sets
// it again.
func (a *Alarms) SetAlarmState(ctx context.Context, name string, state model.AlarmState, reason string) error {
	if a.writer == nil {
		return fmt.Errorf("set alarm %s to %s: no CloudWatch client", name, state)
	}
	_, err := a.writer.SetAlarmState(ctx, &cloudwatch.SetAlarmStateInput{
		AlarmName:   awssdk.String(name),
		StateValue:  cwtypes.StateValue(state),
		StateReason: awssdk.String(reason),
	})
	if err != nil {
		return fmt.Errorf("set alarm %s to %s: %w", name, state, err)
	}
	return nil
}

// Alarms returns one entry per name, in the caller's order. A name AWS does
// not return is MISSING: a typo in the config must not look like "OK".
func (a *Alarms) Alarms(ctx context.Context, names []string) ([]model.Alarm, error) {
	if got, err, ok := batchedAlarms(ctx, names); ok {
		return got, err
	}
	found := make(map[string]model.Alarm, len(names))
	unique := make([]string, 0, len(names))
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if !seen[n] {
			seen[n] = true
			unique = append(unique, n)
		}
	}
	for lo := 0; lo < len(unique); lo += maxAlarmNames {
		batch := unique[lo:min(lo+maxAlarmNames, len(unique))]
		in := &cloudwatch.DescribeAlarmsInput{
			AlarmNames: batch,
			// Without AlarmTypes only metric alarms come back, and a
			// composite alarm named in the config would read as MISSING.
			AlarmTypes: []cwtypes.AlarmType{cwtypes.AlarmTypeMetricAlarm, cwtypes.AlarmTypeCompositeAlarm},
			MaxRecords: awssdk.Int32(maxAlarmNames),
		}
		for page := 0; ; page++ {
			if page == maxPages {
				return nil, fmt.Errorf("describe alarms: still paging after %d pages", maxPages)
			}
			out, err := a.api.DescribeAlarms(ctx, in)
			if err != nil {
				return nil, fmt.Errorf("describe alarms %d names from %q: %w", len(batch), batch[0], err)
			}
			for _, m := range out.MetricAlarms {
				found[awssdk.ToString(m.AlarmName)] = model.Alarm{
					Name: awssdk.ToString(m.AlarmName), State: model.AlarmState(m.StateValue),
					Reason: awssdk.ToString(m.StateReason), UpdatedAt: awssdk.ToTime(m.StateUpdatedTimestamp),
				}
			}
			for _, c := range out.CompositeAlarms {
				found[awssdk.ToString(c.AlarmName)] = model.Alarm{
					Name: awssdk.ToString(c.AlarmName), State: model.AlarmState(c.StateValue),
					Reason: awssdk.ToString(c.StateReason), UpdatedAt: awssdk.ToTime(c.StateUpdatedTimestamp),
				}
			}
			if out.NextToken == nil || *out.NextToken == "" {
				break
			}
			in.NextToken = out.NextToken
		}
	}
	res := make([]model.Alarm, len(names))
	for i, n := range names {
		if al, ok := found[n]; ok {
			res[i] = al
		} else {
			res[i] = model.Alarm{Name: n, State: model.AlarmMissing}
		}
	}
	return res, nil
}
