package aws_test

import (
	"github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/rollout"
)

// The engine's ports, satisfied by the adapters. An external test package,
// so aws itself never imports rollout.
var (
	_ rollout.Router         = (*aws.ALBRouter)(nil)
	_ rollout.HealthReader   = (*aws.ALBRouter)(nil)
	_ rollout.SideKeeper     = (*aws.ALBRouter)(nil)
	_ rollout.MetricsReader  = (*aws.Metrics)(nil)
	_ rollout.AlarmReader    = (*aws.Alarms)(nil)
	_ rollout.IdentityReader = (*aws.Identity)(nil)
)
