// Package elbv2 is the simulated Elastic Load Balancing v2: load
// balancers, listeners, weighted rules, target groups, their health and
// tags over awsQuery, seeded from a scenario's ALB canaries; and the ALB
// traffic model, which turns each canary rule's weights into the
// AWS/ApplicationELB metrics its target groups publish.
package elbv2

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

type elbv2Handler func(e *Service, t *awsproto.Node) (string, *awsproto.Error)

var elbv2Ops = map[string]elbv2Handler{
	"DescribeLoadBalancers": (*Service).describeLoadBalancers,
	"DescribeListeners":     (*Service).describeListeners,
	"DescribeRules":         (*Service).describeRules,
	"ModifyRule":            (*Service).modifyRule,
	"ModifyListener":        (*Service).modifyListener,
	"DescribeTargetGroups":  (*Service).describeTargetGroups,
	"DescribeTargetHealth":  (*Service).describeTargetHealth,
	"AddTags":               (*Service).addTags,
	"RemoveTags":            (*Service).removeTags,
	"DescribeTags":          (*Service).describeTags,
}

func (e *Service) Operation(r *http.Request, body []byte) string {
	return awsproto.QueryAction(r, body)
}

func (e *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	t, aerr := awsproto.ParseQueryRequest(r, body)
	if aerr != nil {
		awsproto.WriteQuery(w, elbv2NS, "", "", aerr)
		return
	}
	op := t.Str("Action")
	if v := t.Str("Version"); v != "" && v != elbv2Version {
		awsproto.WriteQuery(w, elbv2NS, op, "", awsproto.SenderErr("InvalidAction",
			"Could not find operation %s for version %s", op, v))
		return
	}
	h := elbv2Ops[op]
	if h == nil {
		awsproto.WriteQuery(w, elbv2NS, op, "", awsproto.SenderErr("InvalidAction",
			"Could not find operation %s for version %s (the simulator supports %v)", op, elbv2Version, awsproto.SortedKeys(elbv2Ops)))
		return
	}
	result, aerr := h(e, t)
	awsproto.WriteQuery(w, elbv2NS, op, result, aerr)
}

// page applies Marker/PageSize to n items. Markers are opaque to clients
// but are simply the next index here.
func page(t *awsproto.Node, n int) (lo, hi int, next string, err *awsproto.Error) {
	size := 400
	if ps := t.Str("PageSize"); ps != "" {
		v, perr := strconv.Atoi(ps)
		if perr != nil || v < 1 || v > 400 {
			return 0, 0, "", awsproto.ValidationErr("Page size '%s' must be between 1 and 400", ps)
		}
		size = v
	}
	if m := t.Str("Marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		v, perr := strconv.Atoi(string(raw))
		if derr != nil || perr != nil || v < 0 || v > n {
			return 0, 0, "", awsproto.ValidationErr("Invalid marker '%s'", m)
		}
		lo = v
	}
	hi = min(lo+size, n)
	if hi < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(hi)))
	}
	return lo, hi, next, nil
}

func (e *Service) describeLoadBalancers(t *awsproto.Node) (string, *awsproto.Error) {
	arns, names := t.Strings("LoadBalancerArns"), t.Strings("Names")
	if len(arns) > 0 && len(names) > 0 {
		return "", awsproto.ValidationErr("Load balancer names and load balancer ARNs cannot be specified at the same time")
	}
	var lbs []*loadBalancer
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			lb, err := e.findLB(a)
			if err != nil {
				return "", err
			}
			lbs = append(lbs, lb)
		}
	case len(names) > 0:
		for _, nm := range names {
			var found *loadBalancer
			for _, lb := range e.lbs {
				if lb.name == nm {
					found = lb
				}
			}
			if found == nil {
				return "", awsproto.SenderErr("LoadBalancerNotFound", "Load balancers '[%s]' not found", nm)
			}
			lbs = append(lbs, found)
		}
	default:
		lbs = e.lbs
	}
	lo, hi, next, err := page(t, len(lbs))
	if err != nil {
		return "", err
	}
	var x awsproto.XMLWriter
	x.Open("LoadBalancers")
	for _, lb := range lbs[lo:hi] {
		x.Open("member")
		x.Elem("LoadBalancerArn", lb.arn)
		x.Elem("DNSName", lb.name+"-"+lb.id[:10]+"."+e.region+".elb.amazonaws.com")
		x.Elem("CanonicalHostedZoneId", "Z35SXDOTRQ7X7K")
		x.Elem("CreatedTime", lb.created.UTC().Format(time.RFC3339))
		x.Elem("LoadBalancerName", lb.name)
		x.Elem("Scheme", "internet-facing")
		x.Elem("VpcId", "vpc-0sim"+lb.id[:8])
		x.Open("State")
		x.Elem("Code", "active")
		x.Close("State")
		x.Elem("Type", "application")
		x.Elem("IpAddressType", "ipv4")
		x.Open("AvailabilityZones")
		for _, az := range []string{"a", "b"} {
			x.Open("member")
			x.Elem("ZoneName", e.region+az)
			x.Elem("SubnetId", "subnet-0sim"+az+lb.id[:8])
			x.Close("member")
		}
		x.Close("AvailabilityZones")
		x.Close("member")
	}
	x.Close("LoadBalancers")
	if next != "" {
		x.Elem("NextMarker", next)
	}
	return x.String(), nil
}

func (e *Service) describeTargetGroups(t *awsproto.Node) (string, *awsproto.Error) {
	arns, names, lbARN := t.Strings("TargetGroupArns"), t.Strings("Names"), t.Str("LoadBalancerArn")
	given := 0
	for _, b := range []bool{len(arns) > 0, len(names) > 0, lbARN != ""} {
		if b {
			given++
		}
	}
	if given > 1 {
		return "", awsproto.ValidationErr("Specify at most one of TargetGroupArns, Names and LoadBalancerArn")
	}
	var tgs []*targetGroup
	switch {
	case len(arns) > 0:
		for _, a := range arns {
			tg, err := e.findTG(a)
			if err != nil {
				return "", err
			}
			tgs = append(tgs, tg)
		}
	case len(names) > 0:
		for _, nm := range names {
			var found *targetGroup
			for _, tg := range e.tgs {
				if tg.name == nm {
					found = tg
				}
			}
			if found == nil {
				return "", awsproto.SenderErr("TargetGroupNotFound", "One or more target groups not found: '%s'", nm)
			}
			tgs = append(tgs, found)
		}
	case lbARN != "":
		if _, err := e.findLB(lbARN); err != nil {
			return "", err
		}
		for _, tg := range e.tgs {
			for _, a := range tg.lbARNs {
				if a == lbARN {
					tgs = append(tgs, tg)
				}
			}
		}
	default:
		tgs = e.tgs
	}
	lo, hi, next, err := page(t, len(tgs))
	if err != nil {
		return "", err
	}
	var x awsproto.XMLWriter
	x.Open("TargetGroups")
	for _, tg := range tgs[lo:hi] {
		x.Open("member")
		x.Elem("TargetGroupArn", tg.arn)
		x.Elem("TargetGroupName", tg.name)
		x.Elem("Protocol", "HTTP")
		x.Elem("ProtocolVersion", "HTTP1")
		x.Elem("Port", strconv.Itoa(tg.port))
		x.Elem("VpcId", "vpc-0simulated")
		x.Elem("HealthCheckProtocol", "HTTP")
		x.Elem("HealthCheckPort", "traffic-port")
		x.Elem("HealthCheckEnabled", "true")
		x.Elem("HealthCheckIntervalSeconds", "30")
		x.Elem("HealthCheckTimeoutSeconds", "5")
		x.Elem("HealthyThresholdCount", "5")
		x.Elem("UnhealthyThresholdCount", "2")
		x.Elem("HealthCheckPath", "/healthz")
		x.Open("Matcher")
		x.Elem("HttpCode", "200")
		x.Close("Matcher")
		x.Open("LoadBalancerArns")
		for _, a := range tg.lbARNs {
			x.Elem("member", a)
		}
		x.Close("LoadBalancerArns")
		x.Elem("TargetType", "instance")
		x.Elem("IpAddressType", "ipv4")
		x.Close("member")
	}
	x.Close("TargetGroups")
	if next != "" {
		x.Elem("NextMarker", next)
	}
	return x.String(), nil
}

func (e *Service) describeTargetHealth(t *awsproto.Node) (string, *awsproto.Error) {
	arn := t.Str("TargetGroupArn")
	if arn == "" {
		return "", awsproto.ValidationErr("TargetGroupArn is required")
	}
	tg, err := e.findTG(arn)
	if err != nil {
		return "", err
	}
	targets := tg.targets
	if want := t.List("Targets"); len(want) > 0 {
		targets = nil
		for _, w := range want {
			id := w.Str("Id")
			var found *tgTarget
			for _, tt := range tg.targets {
				if tt.id == id && (w.Str("Port") == "" || w.Str("Port") == strconv.Itoa(tt.port)) {
					found = tt
				}
			}
			if found == nil {
				port, _ := strconv.Atoi(w.Str("Port"))
				found = &tgTarget{id: id, port: port, state: "unused", reason: "Target.NotRegistered",
					description: "Target is not registered to the target group"}
			}
			targets = append(targets, found)
		}
	}
	var x awsproto.XMLWriter
	x.Open("TargetHealthDescriptions")
	for _, tt := range targets {
		x.Open("member")
		x.Open("Target")
		x.Elem("Id", tt.id)
		if tt.port != 0 {
			x.Elem("Port", strconv.Itoa(tt.port))
		}
		x.Close("Target")
		x.Elem("HealthCheckPort", strconv.Itoa(tg.port))
		x.Open("TargetHealth")
		x.Elem("State", tt.state)
		if tt.reason != "" {
			x.Elem("Reason", tt.reason)
			x.Elem("Description", tt.description)
		}
		x.Close("TargetHealth")
		x.Close("member")
	}
	x.Close("TargetHealthDescriptions")
	return x.String(), nil
}

// Endpoint routes awsQuery requests of version 2015-12-01.
func (e *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "elbv2", SigningName: "elasticloadbalancing", QueryVersions: []string{elbv2Version}}
}
