package sim_test

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

// TestRegionsRouteBySigV4Region: three regions behind one endpoint, each
// with its own fleet; a client signing for a region sees that region's
// load balancers (with ARNs in that region) and only its stats and
// faults move; a region not simulated is refused.
func TestRegionsRouteBySigV4Region(t *testing.T) {
	base, err := sim.LoadScenario("healthy")
	if err != nil {
		t.Fatal(err)
	}
	n := map[string]int{"us-east-1": 2, "eu-west-1": 3, "ap-southeast-2": 4}
	regs, err := sim.NewRegions(sim.Options{Clock: clock.NewManual(simtest.Epoch)}, []string{"us-east-1", "eu-west-1", "ap-southeast-2"},
		func(r string) (*sim.Scenario, error) { return sim.FleetScenario(base, n[r]) })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(regs.Handler())
	defer srv.Close()
	spec, _ := sim.ParseFaultSpec("rate:elbv2:1/s")
	if err := regs.Sim("eu-west-1").ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	client := func(region string) *elb.Client {
		return elb.New(elb.Options{Region: region, BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
				return aws.Credentials{AccessKeyID: "test", SecretAccessKey: "test"}, nil
			})})
	}
	for r, want := range n {
		out, err := client(r).DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
		if err != nil {
			t.Fatalf("%s: %v", r, err)
		}
		if len(out.LoadBalancers) != want {
			t.Errorf("%s: %d load balancers, want %d", r, len(out.LoadBalancers), want)
		}
		for _, lb := range out.LoadBalancers {
			if arn := aws.ToString(lb.LoadBalancerArn); !containsRegion(arn, r) {
				t.Errorf("%s: ARN %s is not in the region", r, arn)
			}
		}
		if got := regs.Sim(r).Stats()["elbv2:DescribeLoadBalancers"]; got != 1 {
			t.Errorf("%s: stats %d, want 1", r, got)
		}
	}
	// eu-west-1's bucket is spent (burst 1); us-east-1's limit is its own.
	if _, err := client("eu-west-1").DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err == nil {
		t.Error("eu-west-1 over its rate was not throttled")
	}
	if _, err := client("us-east-1").DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil {
		t.Errorf("us-east-1 throttled by eu-west-1's limit: %v", err)
	}
	if _, err := client("us-west-2").DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err == nil {
		t.Error("a region not simulated answered")
	}
}

func containsRegion(arn, region string) bool { return strings.Contains(arn, ":"+region+":") }
