package sim_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/perch-dev/perch/sim"
	"github.com/perch-dev/perch/sim/simtest"
)

func getStats(t *testing.T, base string) map[string]int {
	t.Helper()
	resp, err := http.Get(base + "/_sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Calls map[string]int `json:"calls"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out.Calls
}

func TestStatsCountCallsNotControlPaths(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	ctx := context.Background()
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	tg := env.Target(t, "checkout")

	if _, err := c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
			Actions: forward(map[string]int32{tg.StableTargetGroupARN: 80, tg.CanaryTargetGroupARN: 20})}); err != nil {
			t.Fatal(err)
		}
	}
	// A failed call still reached the handler and counts.
	_, err := c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String("bad"),
		Actions: forward(map[string]int32{tg.StableTargetGroupARN: 1})})
	wantCode(t, err, "ValidationError")
	if _, err := sts.NewFromConfig(env.AWS).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	getStats(t, env.URL) // control paths are not counted
	if resp, err := http.Get(env.URL + "/_sim/manifest"); err == nil {
		var m sim.Manifest
		_ = json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if m.Endpoint != env.URL || len(m.Targets) != 1 || m.Targets[0].RuleARN != tg.RuleARN {
			t.Errorf("/_sim/manifest = %+v", m)
		}
	}

	want := map[string]int{"elbv2:DescribeRules": 1, "elbv2:ModifyRule": 3, "sts:GetCallerIdentity": 1}
	got := getStats(t, env.URL)
	if len(got) != len(want) {
		t.Errorf("stats = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("stats[%s] = %d, want %d (all: %v)", k, got[k], v, got)
		}
	}
	if in := env.Sim.Stats(); in["elbv2:ModifyRule"] != 3 {
		t.Errorf("Sim.Stats = %v", in)
	}

	resp, err := http.Post(env.URL+"/_sim/stats/reset", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := getStats(t, env.URL); len(got) != 0 {
		t.Errorf("stats after reset = %v", got)
	}
}

func TestUnsignedRequestsRouteByProtocolMarkers(t *testing.T) {
	env := simtest.Start(t, simtest.Options{})
	post := func(body string, hdr map[string]string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := post("Action=GetCallerIdentity&Version=2011-06-15", nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "<GetCallerIdentityResult>") || resp.Header.Get("X-Amzn-Requestid") == "" {
		t.Errorf("unsigned STS: %d %s", resp.StatusCode, body)
	}
	resp, body = post(url.Values{"Action": {"DescribeLoadBalancers"}, "Version": {"2015-12-01"}}.Encode(), nil)
	if resp.StatusCode != 200 || !strings.Contains(body, "<LoadBalancerName>checkout</LoadBalancerName>") {
		t.Errorf("unsigned ELBv2: %d %s", resp.StatusCode, body)
	}
	resp, body = post("Action=Frobnicate&Version=1999-01-01", nil)
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>UnknownServiceException</Code>") {
		t.Errorf("unknown service: %d %s", resp.StatusCode, body)
	}
	resp, body = post("{}", map[string]string{"X-Amz-Target": "Nope_2020.Op", "Content-Type": "application/x-amz-json-1.1"})
	if resp.StatusCode != 400 || !strings.Contains(body, `"__type":"UnknownServiceException"`) {
		t.Errorf("unknown JSON service: %d %s", resp.StatusCode, body)
	}
	resp, body = post("Action=CreateRule&Version=2015-12-01", map[string]string{
		"Authorization": "AWS4-HMAC-SHA256 Credential=test/20261126/us-east-1/elasticloadbalancing/aws4_request, SignedHeaders=host, Signature=00"})
	if resp.StatusCode != 400 || !strings.Contains(body, "<Code>InvalidAction</Code>") {
		t.Errorf("unsupported ELBv2 op: %d %s", resp.StatusCode, body)
	}
	if got := env.Sim.Stats(); got["elbv2:CreateRule"] != 1 || got["sts:GetCallerIdentity"] != 1 || len(got) != 3 {
		t.Errorf("stats = %v", got)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	_, err := sim.Start(context.Background(), "0.0.0.0:0", sim.Options{})
	if err == nil || !strings.Contains(err.Error(), "non-loopback") {
		t.Fatalf("err = %v", err)
	}
}

func TestStartStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	run, err := sim.Start(ctx, "", sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(run.URL, "http://127.0.0.1:") {
		t.Errorf("URL = %s", run.URL)
	}
	cancel()
	// Close waits for the server goroutine, so after it returns the
	// listener is gone.
	if err := run.Close(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		t.Logf("close: %v", err)
	}
	c := elb.NewFromConfig(simtest.Config(run.URL), func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	if _, err := c.DescribeLoadBalancers(context.Background(), &elb.DescribeLoadBalancersInput{}); err == nil {
		t.Fatal("request succeeded after the simulator was stopped")
	}
}

func TestConcurrentClientsWhileClockAdvances(t *testing.T) {
	env := simtest.Start(t, simtest.Options{ScenarioName: "error-spike"})
	ctx := context.Background()
	c := elb.NewFromConfig(env.AWS, func(o *elb.Options) { o.RetryMaxAttempts = 1 })
	tg := env.Target(t, "checkout")
	const workers, calls = 6, 15
	errs := make(chan error, workers*calls+1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 50 {
			env.Advance(7 * time.Second)
			env.Sim.Sync()
		}
	}()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range calls {
				var err error
				if (w+i)%3 == 0 {
					canary := int32((w*calls + i) % 100)
					_, err = c.ModifyRule(ctx, &elb.ModifyRuleInput{RuleArn: aws.String(tg.RuleARN),
						Actions: forward(map[string]int32{tg.StableTargetGroupARN: 100 - canary, tg.CanaryTargetGroupARN: canary})})
				} else {
					_, err = c.DescribeRules(ctx, &elb.DescribeRulesInput{RuleArns: []string{tg.RuleARN}})
				}
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	<-done
	close(errs)
	for err := range errs {
		t.Errorf("call failed: %v", err)
	}
	st := env.Sim.Stats()
	if st["elbv2:ModifyRule"]+st["elbv2:DescribeRules"] != workers*calls {
		t.Errorf("stats = %v, want %d calls", st, workers*calls)
	}
	w, _ := env.Sim.Weights(tg.RuleARN)
	if w[tg.StableTargetGroupARN]+w[tg.CanaryTargetGroupARN] != 100 {
		t.Errorf("weights torn by concurrent writes: %v", w)
	}
}
