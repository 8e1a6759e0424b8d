package aws

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	elbv2 "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2/types"
)

// fixtureSeq keeps resource names unique across tests sharing one moto.
var fixtureSeq atomic.Int64

// albFixture is an ALB with a listener and N target groups in moto.
type albFixture struct {
	elb      *elbv2.Client
	lbARN    string
	listener string
	tgs      []string // target group ARNs
	names    []string
	vpc      string
}

// ec2Query posts a raw EC2 Query request. perch never talks to EC2, so the
// fixture avoids compiling service/ec2 (a very large module) for two calls.
func ec2Query(ctx context.Context, t *testing.T, endpoint string, params url.Values, out any) {
	t.Helper()
	params.Set("Version", "2016-11-15")
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(params.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	// moto routes a shared port by the credential scope's service name.
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("ec2 %s: %v", params.Get("Action"), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("ec2 %s: HTTP %d: %s", params.Get("Action"), resp.StatusCode, body)
	}
	if err := xml.Unmarshal(body, out); err != nil {
		t.Fatalf("ec2 %s: decode %s: %v", params.Get("Action"), body, err)
	}
}

// newALBFixture builds VPC, subnets, ALB, nTG target groups and a listener
// whose default action is a plain fixed-response (tests add rules).
func newALBFixture(t *testing.T, nTG int) *albFixture {
	t.Helper()
	ctx := t.Context()
	cfg := motoConfig(t)
	endpoint := awssdk.ToString(cfg.BaseEndpoint)
	n := fixtureSeq.Add(1)

	var vpc struct {
		VpcID string `xml:"vpc>vpcId"`
	}
	ec2Query(ctx, t, endpoint, url.Values{"Action": {"CreateVpc"}, "CidrBlock": {"10.0.0.0/16"}}, &vpc)
	var subnets []string
	for i, az := range []string{"us-east-1a", "us-east-1b"} {
		var sn struct {
			SubnetID string `xml:"subnet>subnetId"`
		}
		ec2Query(ctx, t, endpoint, url.Values{"Action": {"CreateSubnet"}, "VpcId": {vpc.VpcID},
			"CidrBlock": {fmt.Sprintf("10.0.%d.0/24", i)}, "AvailabilityZone": {az}}, &sn)
		subnets = append(subnets, sn.SubnetID)
	}

	f := &albFixture{elb: elbv2.NewFromConfig(cfg), vpc: vpc.VpcID}
	lb, err := f.elb.CreateLoadBalancer(ctx, &elbv2.CreateLoadBalancerInput{
		Name: awssdk.String(fmt.Sprintf("checkout-%d", n)), Subnets: subnets,
	})
	if err != nil {
		t.Fatalf("create load balancer: %v", err)
	}
	f.lbARN = awssdk.ToString(lb.LoadBalancers[0].LoadBalancerArn)
	for i := 0; i < nTG; i++ {
		name := fmt.Sprintf("tg%d-%d", n, i)
		tg, err := f.elb.CreateTargetGroup(ctx, &elbv2.CreateTargetGroupInput{
			Name: awssdk.String(name), Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(80),
			VpcId: awssdk.String(vpc.VpcID), TargetType: elbtypes.TargetTypeEnumIp,
		})
		if err != nil {
			t.Fatalf("create target group: %v", err)
		}
		f.tgs = append(f.tgs, awssdk.ToString(tg.TargetGroups[0].TargetGroupArn))
		f.names = append(f.names, name)
	}
	lis, err := f.elb.CreateListener(ctx, &elbv2.CreateListenerInput{
		LoadBalancerArn: awssdk.String(f.lbARN), Protocol: elbtypes.ProtocolEnumHttp, Port: awssdk.Int32(80),
		DefaultActions: []elbtypes.Action{fixedResponse()},
	})
	if err != nil {
		t.Fatalf("create listener: %v", err)
	}
	f.listener = awssdk.ToString(lis.Listeners[0].ListenerArn)
	return f
}

func fixedResponse() elbtypes.Action {
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumFixedResponse, FixedResponseConfig: &elbtypes.FixedResponseActionConfig{
		StatusCode: awssdk.String("404"), ContentType: awssdk.String("text/plain"), MessageBody: awssdk.String("no route"),
	}}
}

// weighted is a forward action over the fixture's groups i with weights w.
func (f *albFixture) weighted(idx []int, w []int32, sticky int32) elbtypes.Action {
	fc := &elbtypes.ForwardActionConfig{}
	for k, i := range idx {
		fc.TargetGroups = append(fc.TargetGroups, elbtypes.TargetGroupTuple{TargetGroupArn: awssdk.String(f.tgs[i]), Weight: awssdk.Int32(w[k])})
	}
	if sticky > 0 {
		fc.TargetGroupStickinessConfig = &elbtypes.TargetGroupStickinessConfig{Enabled: awssdk.Bool(true), DurationSeconds: awssdk.Int32(sticky)}
	}
	return elbtypes.Action{Type: elbtypes.ActionTypeEnumForward, ForwardConfig: fc}
}

func (f *albFixture) rule(t *testing.T, priority int32, actions ...elbtypes.Action) string {
	t.Helper()
	out, err := f.elb.CreateRule(t.Context(), &elbv2.CreateRuleInput{
		ListenerArn: awssdk.String(f.listener), Priority: awssdk.Int32(priority), Actions: actions,
		Conditions: []elbtypes.RuleCondition{{Field: awssdk.String("path-pattern"),
			PathPatternConfig: &elbtypes.PathPatternConditionConfig{Values: []string{"/api/*"}}}},
	})
	if err != nil {
		t.Fatalf("create rule: %v", err)
	}
	return awssdk.ToString(out.Rules[0].RuleArn)
}

func (f *albFixture) setDefault(t *testing.T, actions ...elbtypes.Action) {
	t.Helper()
	if _, err := f.elb.ModifyListener(t.Context(), &elbv2.ModifyListenerInput{ListenerArn: awssdk.String(f.listener), DefaultActions: actions}); err != nil {
		t.Fatalf("modify listener: %v", err)
	}
}
