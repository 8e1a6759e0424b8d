package aws

import (
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/arn"
)

// elbARN is a parsed ALB listener or listener-rule ARN. The load balancer
// and listener ARNs are derived from it so a rule needs no extra lookups.
type elbARN struct {
	raw         string
	kind        string // "listener" or "listener-rule"
	lbName      string
	lbARN       string
	listenerARN string
}

// parseELBARN checks syntax before any call, so a typo fails fast with the
// offending value instead of a round trip and AWS's "ValidationError".
//
//	arn:aws:elasticloadbalancing:REGION:ACCT:listener/app/NAME/LBID/LISTENERID
//	arn:aws:elasticloadbalancing:REGION:ACCT:listener-rule/app/NAME/LBID/LISTENERID/RULEID
func parseELBARN(s, want string) (elbARN, error) {
	a, err := arn.Parse(s)
	if err != nil {
		return elbARN{}, fmt.Errorf("%s ARN %q is malformed: %w", want, s, err)
	}
	if a.Service != "elasticloadbalancing" {
		return elbARN{}, fmt.Errorf("%s ARN %q is for service %q, not elasticloadbalancing", want, s, a.Service)
	}
	parts := strings.Split(a.Resource, "/")
	if parts[0] != want {
		return elbARN{}, fmt.Errorf("%q is a %s ARN, not a %s ARN", s, parts[0], want)
	}
	n := 5
	if want == "listener-rule" {
		n = 6
	}
	if len(parts) != n || parts[1] != "app" {
		shape := "listener/app/NAME/LB-ID/LISTENER-ID"
		if want == "listener-rule" {
			shape = "listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID"
		}
		return elbARN{}, fmt.Errorf("%s ARN %q is malformed: want ...:%s", want, s, shape)
	}
	for _, p := range parts[1:] {
		if p == "" {
			return elbARN{}, fmt.Errorf("%s ARN %q is malformed: empty path segment", want, s)
		}
	}
	prefix := strings.TrimSuffix(s, a.Resource)
	return elbARN{
		raw:         s,
		kind:        want,
		lbName:      parts[2],
		lbARN:       prefix + "loadbalancer/" + strings.Join(parts[1:4], "/"),
		listenerARN: prefix + "listener/" + strings.Join(parts[1:5], "/"),
	}, nil
}

// lbDimension is the CloudWatch LoadBalancer dimension: the ARN after
// "loadbalancer/", e.g. app/checkout/50dc6c495c0c9188.
func lbDimension(lbARN string) string {
	_, after, ok := strings.Cut(lbARN, ":loadbalancer/")
	if !ok {
		return ""
	}
	return after
}

// tgDimension is the CloudWatch TargetGroup dimension: the ARN's resource,
// e.g. targetgroup/checkout-canary/73e2d6bc24d8a067.
func tgDimension(tgARN string) string {
	i := strings.LastIndex(tgARN, ":")
	if i < 0 {
		return ""
	}
	return tgARN[i+1:]
}

// tgNameFromARN is the name segment of a target group ARN.
func tgNameFromARN(tgARN string) string {
	parts := strings.Split(tgDimension(tgARN), "/")
	if len(parts) == 3 && parts[0] == "targetgroup" {
		return parts[1]
	}
	return ""
}
