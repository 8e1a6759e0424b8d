package aws

import (
	"context"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	cdtypes "github.com/aws/aws-sdk-go-v2/service/codedeploy/types"

	"github.com/perch-dev/perch/model"
)

// CodeDeployMetrics fetches the watched deployment's signals: the ALB
// metrics of its blue and green target groups (ECS), or the alias's
// per-ExecutedVersion metrics (Lambda). The queries follow the router
// when it moves on to another deployment.
type CodeDeployMetrics struct {
	batcher *Batcher
	router  *CodeDeployRouter
	// slow learns its threshold anew when the router moves on to another
	// deployment (its stable latency metric changes).
	slow slowCounts
}

// NewCodeDeployMetrics prepares metrics for the router's deployment.
func NewCodeDeployMetrics(cfg awssdk.Config, r *CodeDeployRouter) *CodeDeployMetrics {
	return &CodeDeployMetrics{batcher: NewBatcher(cfg), router: r}
}

// Queries are what Fetch sends for the deployment watched now.
func (m *CodeDeployMetrics) Queries() []MetricQuery {
	v := m.router.view()
	if v.platform == cdtypes.ComputePlatformLambda {
		return LambdaQueries(v.target.Function, v.target.Alias, v.current, v.targetVersion, "")
	}
	return ALBQueries(v.target, "")
}

// Fetch returns a SeriesData for every side × signal, Points possibly
// empty, with the slow-request counts once their threshold is known.
func (m *CodeDeployMetrics) Fetch(ctx context.Context, start, end time.Time) ([]model.SeriesData, error) {
	base := m.Queries()
	qs, got, err := fetchWithSlow(ctx, m.batcher, &m.slow, base, start, end)
	if err != nil {
		return nil, err
	}
	series := SeriesFrom(qs, got)
	if m.router.view().platform == cdtypes.ComputePlatformLambda {
		series = LambdaSeriesFrom(qs, got)
	}
	return slowSeries(series, m.slow.thresholdMs(base)), nil
}
