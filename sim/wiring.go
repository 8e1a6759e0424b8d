package sim

import (
	"time"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/account"
	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/cloudwatch"
	"github.com/perch-dev/perch/sim/codedeploy"
	"github.com/perch-dev/perch/sim/ecs"
	"github.com/perch-dev/perch/sim/elbv2"
	"github.com/perch-dev/perch/sim/lambda"
	"github.com/perch-dev/perch/sim/logs"
	"github.com/perch-dev/perch/sim/metrics"
	"github.com/perch-dev/perch/sim/sts"
)

// The glue between the services, in one place. Each service package
// depends only on the core packages (awsproto, metrics, traffic, scenario,
// ids) and declares, in its own terms, what it needs of the others; here
// the Sim builds the services and hands each the others it needs:
//
//   - CodeDeploy moves ELBv2 rule weights (codedeploy.LoadBalancers), Lambda
//     alias routing (codedeploy.Functions), reads CloudWatch alarm states
//     (codedeploy.Alarms) and brings the traffic models to the time of each
//     change (codedeploy.Traffic, trafficModels below).
//   - The ELBv2 and Lambda traffic models publish to CloudWatch's metric
//     store (metrics.Sink), which CloudWatch's queries and alarms read; the
//     Sim starts them in seedScenario, where the scenario's alarms are also
//     created in CloudWatch.
//   - CloudWatch Logs draws each side's lines from the counts the traffic
//     models published to the metric store (logs.Counts), so every 5xx has
//     its ERROR line; seedLogs tells it which metrics are whose.
//   - The Sim's own cross-service features (drift, the test hooks) use the
//     services' exported methods.

// The services satisfy CodeDeploy's interfaces as they are.
var (
	_ codedeploy.LoadBalancers = (*elbv2.Service)(nil)
	_ codedeploy.Functions     = (*lambda.Service)(nil)
	_ codedeploy.Alarms        = (*cloudwatch.Service)(nil)
	_ ecs.LoadBalancers        = (*elbv2.Service)(nil)
	_ ecs.Alarms               = (*cloudwatch.Service)(nil)
	_ logs.Counts              = (*metrics.Store)(nil)
)

// build creates the services and the router. The order of the services is
// the router's order of markers.
func (s *Sim) build(clk clock.Clock, callerARN string) {
	s.store = metrics.NewStore(max(s.scenario.History.D(), 6*time.Hour))
	s.cw = cloudwatch.New(clk, s.store)
	s.elb = elbv2.New(s.region, s.account)
	s.sts = sts.New(callerARN, s.account, s.seed)
	s.callerARN = callerARN
	s.lambda = lambda.New(s.region, s.account, s.seed, clk.Now)
	s.codedeploy = codedeploy.New(codedeploy.Deps{
		LoadBalancers: s.elb,
		Functions:     s.lambda,
		Alarms:        s.cw,
		Traffic:       trafficModels{s.elb, s.lambda},
		Log:           s.log,
	}, s.region, s.account, s.seed, s.start.Add(-s.scenario.History.D()))
	// ECS moves ELBv2 rule weights and reads alarm states, as CodeDeploy's
	// ECS groups do.
	s.ecs = ecs.New(ecs.Deps{
		LoadBalancers: s.elb,
		Alarms:        s.cw,
		Traffic:       trafficModels{s.elb, s.lambda},
		Log:           s.log,
	}, s.region, s.account, s.seed, s.start.Add(-s.scenario.History.D()))
	s.logs = logs.New(s.region, s.account, s.seed, clk.Now, s.store, s.start, s.scenario.History.D())
	services := []awsproto.Service{s.elb, s.sts, s.cw, s.lambda, s.codedeploy, s.ecs, account.New(s.region), s.logs}
	s.services = map[string]awsproto.Service{}
	var endpoints []awsproto.Endpoint
	for _, svc := range services {
		e := svc.Endpoint()
		s.services[e.SigningName] = svc
		endpoints = append(endpoints, e)
	}
	s.router = awsproto.NewRouter(endpoints)
}

// trafficModels advances both traffic models, ALB first, as CodeDeploy
// needs before each change it makes.
type trafficModels struct {
	elb    *elbv2.Service
	lambda *lambda.Service
}

func (t trafficModels) AdvanceTo(at time.Time) {
	t.elb.AdvanceTraffic(at)
	t.lambda.AdvanceTraffic(at)
}
