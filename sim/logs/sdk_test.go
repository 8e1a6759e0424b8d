package logs_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/perch-dev/perch/sim/simtest"
)

// These tests drive the simulated CloudWatch Logs with the real SDK
// client over loopback, on the manual clock.

func field(r []cwltypes.ResultField, name string) string {
	for _, f := range r {
		if aws.ToString(f.Field) == name {
			return aws.ToString(f.Value)
		}
	}
	return ""
}

// runQuery starts q over the last window, lets the simulated query run,
// and returns its results.
func runQuery(t *testing.T, env *simtest.Env, cl *cloudwatchlogs.Client, group, q string, window time.Duration) *cloudwatchlogs.GetQueryResultsOutput {
	t.Helper()
	ctx := context.Background()
	now := env.Clock.Now()
	st, err := cl.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{
		LogGroupNames: []string{group}, QueryString: aws.String(q),
		StartTime: aws.Int64(now.Add(-window).Unix()), EndTime: aws.Int64(now.Unix()),
	})
	if err != nil {
		t.Fatalf("start query: %v", err)
	}
	got, err := cl.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: st.QueryId})
	if err != nil || got.Status != cwltypes.QueryStatusRunning {
		t.Fatalf("a fresh query: %v %v, want Running", got, err)
	}
	env.Clock.Advance(5 * time.Second)
	got, err = cl.GetQueryResults(ctx, &cloudwatchlogs.GetQueryResultsInput{QueryId: st.QueryId})
	if err != nil || got.Status != cwltypes.QueryStatusComplete {
		t.Fatalf("after 5s: %v %v, want Complete", got, err)
	}
	return got
}

// Every 5xx the traffic model published has its ERROR line, per side, in
// the side's streams.
func TestErrorLinesFollowPublished5xx(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "memory-leak"})
	cl := cloudwatchlogs.NewFromConfig(env.AWS)
	env.Clock.Advance(10 * time.Minute)
	got := runQuery(t, env, cl, "/ecs/checkout",
		`filter @message like /failed with 500/ | parse @logStream "checkout-*/app/*" as side, task | stats count(*) as n by side | sort side asc`, 5*time.Minute)
	if len(got.Results) != 2 || field(got.Results[0], "side") != "canary" || field(got.Results[1], "side") != "stable" {
		t.Fatalf("results %+v", got.Results)
	}
	n := func(r []cwltypes.ResultField) int { v, _ := strconv.Atoi(field(r, "n")); return v }
	if n(got.Results[0]) == 0 || n(got.Results[1]) <= n(got.Results[0]) {
		t.Fatalf("5xx lines canary %d stable %d: want some on both, more on stable (75%%)", n(got.Results[0]), n(got.Results[1]))
	}
	if got.Statistics.BytesScanned <= 0 || got.Statistics.RecordsScanned < got.Statistics.RecordsMatched {
		t.Fatalf("statistics %+v", got.Statistics)
	}
}

// The new exception appears in the canary's streams only, from 5m on.
func TestNewExceptionCanaryOnly(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "new-exception"})
	cl := cloudwatchlogs.NewFromConfig(env.AWS)
	q := `fields @logStream, @message | filter @message like /IllegalStateException/ | limit 10000`
	if got := runQuery(t, env, cl, "/ecs/checkout", q, 30*time.Minute); len(got.Results) != 0 {
		t.Fatalf("before 5m: %d lines", len(got.Results))
	}
	env.Clock.Advance(7 * time.Minute)
	got := runQuery(t, env, cl, "/ecs/checkout", q, 5*time.Minute)
	if len(got.Results) < 5 {
		t.Fatalf("%d lines of the new exception after 7m", len(got.Results))
	}
	for _, r := range got.Results {
		if !strings.HasPrefix(field(r, "@logStream"), "checkout-canary/") {
			t.Fatalf("new exception in %q", field(r, "@logStream"))
		}
	}
	pat := runQuery(t, env, cl, "/ecs/checkout", `filter @message like /ERROR/ | pattern @message`, 5*time.Minute)
	if len(pat.Results) < 2 || field(pat.Results[0], "@pattern") == "" || field(pat.Results[0], "@sampleCount") == "" {
		t.Fatalf("pattern results %+v", pat.Results)
	}
}

func TestQueryErrors(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "memory-leak"})
	cl := cloudwatchlogs.NewFromConfig(env.AWS)
	ctx := context.Background()
	now := env.Clock.Now().Unix()
	_, err := cl.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupNames: []string{"/ecs/checkout"},
		QueryString: aws.String("frobnicate @message"), StartTime: aws.Int64(now - 60), EndTime: aws.Int64(now)})
	var mq *cwltypes.MalformedQueryException
	if !errors.As(err, &mq) {
		t.Fatalf("bad query: %v, want MalformedQueryException", err)
	}
	_, err = cl.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupNames: []string{"/nope"},
		QueryString: aws.String("fields @message"), StartTime: aws.Int64(now - 60), EndTime: aws.Int64(now)})
	var nf *cwltypes.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("unknown group: %v, want ResourceNotFoundException", err)
	}
	st, err := cl.StartQuery(ctx, &cloudwatchlogs.StartQueryInput{LogGroupNames: []string{"/ecs/checkout"},
		QueryString: aws.String("fields @message"), StartTime: aws.Int64(now - 60), EndTime: aws.Int64(now)})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := cl.StopQuery(ctx, &cloudwatchlogs.StopQueryInput{QueryId: st.QueryId})
	if err != nil || !stop.Success || env.Sim.LogQueryStatus(aws.ToString(st.QueryId)) != "Cancelled" {
		t.Fatalf("stop query: %v %v", stop, err)
	}
	groups, err := cl.DescribeLogGroups(ctx, &cloudwatchlogs.DescribeLogGroupsInput{})
	if err != nil || len(groups.LogGroups) != 1 || aws.ToString(groups.LogGroups[0].LogGroupName) != "/ecs/checkout" {
		t.Fatalf("describe log groups: %+v %v", groups, err)
	}
	ev, err := cl.FilterLogEvents(ctx, &cloudwatchlogs.FilterLogEventsInput{LogGroupName: aws.String("/ecs/checkout"),
		LogStreamNamePrefix: aws.String("checkout-canary/"), FilterPattern: aws.String("failed"),
		StartTime: aws.Int64((now - 600) * 1000), EndTime: aws.Int64(now * 1000)})
	if err != nil || len(ev.Events) == 0 || !strings.Contains(aws.ToString(ev.Events[0].Message), "failed") {
		t.Fatalf("filter log events: %v %v", ev, err)
	}
}
