package cli

import (
	"reflect"
	"testing"
	"time"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
)

// TestCustomMetricsFromConfig: perch.yaml's custom metrics reach aws with
// each side's placeholders filled, a metric and an expression alike, in
// the order the queries go out.
func TestCustomMetricsFromConfig(t *testing.T) {
	f, err := config.Parse([]byte(`
targets:
  - name: x
    alb: {rule_arn: "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/a/1/2/3"}
    custom:
      - name: orders
        direction: lower_is_worse
        metric: {namespace: Shop, name: OrdersPlaced, stat: Sum, dimensions: {TargetGroup: "${side.target_group}"}}
      - name: failed_share
        direction: higher_is_worse
        expression: "100 * failed / orders"
        metrics:
          failed: {namespace: Shop, name: OrdersFailed, stat: Sum, dimensions: {TargetGroup: "${side.target_group}"}}
`))
	if err != nil {
		t.Fatal(err)
	}
	tg := model.Target{
		Kind:            model.KindALB,
		LoadBalancerARN: "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/lb/0000000000000001",
		StableARN:       "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/s/0000000000000002",
		CanaryARN:       "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/c/0000000000000003",
	}
	got, err := customMetrics(tg, f.Targets[0].Custom)
	if err != nil {
		t.Fatal(err)
	}
	var want []perchaws.CustomMetric
	for _, side := range model.Sides {
		dims := []model.Dimension{{Name: "TargetGroup", Value: perchaws.SideValues(tg, side)["target_group"]}}
		want = append(want,
			perchaws.CustomMetric{Name: "orders", Side: side, Period: time.Minute, Metric: &model.MetricStat{Namespace: "Shop", Name: "OrdersPlaced", Stat: "Sum", Dimensions: dims}},
			perchaws.CustomMetric{Name: "failed_share", Side: side, Period: time.Minute, Expression: "100 * failed / orders", Inputs: []model.MetricInput{
				{ID: "failed", Metric: model.MetricStat{Namespace: "Shop", Name: "OrdersFailed", Stat: "Sum", Dimensions: dims}},
			}},
		)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %+v\nwant %+v", got, want)
	}
}
