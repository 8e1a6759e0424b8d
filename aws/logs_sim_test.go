package aws_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim/simtest"
)

// A weighted alias's versions log to one group; each side's query keeps
// the streams with its [VERSION], and the canary's failures (4% of its
// invocations from two minutes in, against stable's 0.2%) come out NEW.
func TestLambdaLogSidesByStreamVersion(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "lambda-errors"})
	ctx := context.Background()
	logs, err := perchaws.NewLogs(env.AWS, perchaws.LogsOptions{Sides: perchaws.LambdaLogSides("orders", "7", "8")})
	if err != nil {
		t.Fatal(err)
	}
	env.Clock.Advance(12 * time.Minute)
	from, to := env.Clock.Now().Add(-10*time.Minute), env.Clock.Now()
	var ids [2]string
	for _, side := range model.Sides {
		if ids[side], err = logs.StartQuery(ctx, side, from, to); err != nil {
			t.Fatal(err)
		}
		if res, err := logs.QueryResults(ctx, ids[side]); err != nil || res.Done {
			t.Fatalf("%s: a query that has just started: %+v %v", side, res, err)
		}
	}
	env.Clock.Advance(5 * time.Second)
	var groups [2][]model.LogPattern
	for _, side := range model.Sides {
		res, err := logs.QueryResults(ctx, ids[side])
		if err != nil || !res.Done || res.BytesScanned <= 0 {
			t.Fatalf("%s: %+v %v", side, res, err)
		}
		groups[side] = res.Patterns
	}
	rows := model.ComparePatterns(groups, [2]float64{model.Stable: 0.9 * 12000, model.Canary: 0.1 * 12000}, model.NewPatternRule{})
	if len(rows) == 0 || !rows[0].New || !strings.Contains(rows[0].Pattern, "Runtime.HandlerError") || rows[0].Counts[model.Canary] < 20 {
		t.Fatalf("rows %+v: want the canary's failures NEW", rows)
	}

	// The streams are named as Lambda names them.
	out, err := cloudwatchlogs.NewFromConfig(env.AWS).FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{
		LogGroupName: new("/aws/lambda/orders"), FilterPattern: new("REPORT"), Limit: new(int32(50)),
		StartTime: new(from.UnixMilli()), EndTime: new(to.UnixMilli()),
	})
	if err != nil || len(out.Events) == 0 {
		t.Fatalf("filter log events: %v %v", out, err)
	}
	name := regexp.MustCompile(`^\d{4}/\d{2}/\d{2}/\[(7|8)\][0-9a-f]{32}$`)
	for _, e := range out.Events {
		if !name.MatchString(*e.LogStreamName) {
			t.Fatalf("stream %q is not YYYY/MM/DD/[VERSION]id", *e.LogStreamName)
		}
	}
}
