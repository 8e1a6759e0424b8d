package aws

import (
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatch"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func TestCloudWatchRetriesAdaptivelyThroughThrottling(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	isolateAWSEnv(t)
	cfg, err := LoadConfig(t.Context(), ConfigOptions{
		Region: "us-east-1", EndpointURL: env.URL,
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	mt := env.Target(t, "checkout")
	r, err := NewALBRouter(t.Context(), cfg, ALBOptions{RuleARN: mt.RuleARN})
	if err != nil {
		t.Fatal(err)
	}
	m := NewALBMetrics(cfg, r.Target())
	retryer := m.batcher.api.(*cloudwatch.Client).Options().Retryer
	if _, ok := retryer.(*retry.AdaptiveMode); !ok || retryer.MaxAttempts() != cloudWatchMaxAttempts {
		t.Fatalf("CloudWatch retryer = %T with %d attempts, want adaptive with %d", retryer, retryer.MaxAttempts(), cloudWatchMaxAttempts)
	}

	spec, err := sim.ParseFaultSpec("throttle:cloudwatch:0.5")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.Sim.ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	env.Sim.ResetStats()
	now := env.Clock.Now()
	// Each throttle costs real seconds (backoff, then the adaptive rate
	// limit), so stop at the first fetch that needed a retry.
	for fetches := 1; ; fetches++ {
		if _, err := m.Fetch(t.Context(), now.Add(-10*time.Minute), now); err != nil {
			t.Fatalf("fetch under throttle:cloudwatch:0.5: %v", err)
		}
		if n := env.Sim.Stats()["cloudwatch:GetMetricData"]; n > fetches {
			break
		}
		if fetches == 8 {
			t.Fatal("8 fetches and not one throttle: the fault is not armed, so the test proves nothing")
		}
	}
}

func TestUserRetryModeWins(t *testing.T) {
	for _, cfg := range []awssdk.Config{
		{Region: "us-east-1", RetryMode: awssdk.RetryModeStandard},
		{Region: "us-east-1", Retryer: func() awssdk.Retryer { return retry.AddWithMaxAttempts(retry.NewStandard(), 7) }},
	} {
		retryer := newCloudWatch(cfg).Options().Retryer
		if _, adaptive := retryer.(*retry.AdaptiveMode); adaptive {
			t.Errorf("config %+v: perch replaced the user's retry choice with adaptive", cfg)
		}
	}
	capped := newCloudWatch(awssdk.Config{Region: "us-east-1", RetryMaxAttempts: 2}).Options().Retryer
	if capped.MaxAttempts() != 2 {
		t.Errorf("AWS_MAX_ATTEMPTS=2 gives %d attempts", capped.MaxAttempts())
	}
}
