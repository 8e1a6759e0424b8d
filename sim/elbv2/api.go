// Package elbv2 is the simulated Elastic Load Balancing v2: load
// balancers, listeners, weighted rules, target groups, their health and
// tags over awsQuery, seeded from a scenario's ALB canaries; and the ALB
// traffic model, which turns each canary rule's weights into the
// AWS/ApplicationELB metrics its target groups publish.
package elbv2

import (
	"encoding/base64"
	"net/http"
	"sort"
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

func (e *Service) describeListeners(t *awsproto.Node) (string, *awsproto.Error) {
	lbARN, arns := t.Str("LoadBalancerArn"), t.Strings("ListenerArns")
	if (lbARN == "") == (len(arns) == 0) {
		return "", awsproto.ValidationErr("You must specify either listener ARNs or a load balancer ARN, but not both")
	}
	var ls []*listener
	if lbARN != "" {
		if _, err := e.findLB(lbARN); err != nil {
			return "", err
		}
		for _, l := range e.listeners {
			if l.lbARN == lbARN {
				ls = append(ls, l)
			}
		}
	} else {
		for _, a := range arns {
			l, err := e.findListener(a)
			if err != nil {
				return "", err
			}
			ls = append(ls, l)
		}
	}
	lo, hi, next, err := page(t, len(ls))
	if err != nil {
		return "", err
	}
	var x awsproto.XMLWriter
	x.Open("Listeners")
	for _, l := range ls[lo:hi] {
		writeListener(&x, l)
	}
	x.Close("Listeners")
	if next != "" {
		x.Elem("NextMarker", next)
	}
	return x.String(), nil
}

func writeListener(x *awsproto.XMLWriter, l *listener) {
	x.Open("member")
	x.Elem("ListenerArn", l.arn)
	x.Elem("LoadBalancerArn", l.lbARN)
	x.Elem("Port", strconv.Itoa(l.port))
	x.Elem("Protocol", l.protocol)
	writeActions(x, "DefaultActions", l.defaultActions)
	x.Close("member")
}

func writeActions(x *awsproto.XMLWriter, name string, as []action) {
	x.Open(name)
	for _, a := range as {
		x.Open("member")
		x.Elem("Type", a.typ)
		x.Elem("Order", strconv.Itoa(a.order))
		if f := a.forward; f != nil {
			// AWS returns the legacy TargetGroupArn alongside ForwardConfig
			// when the forward has a single group.
			if len(f.groups) == 1 {
				x.Elem("TargetGroupArn", f.groups[0].arn)
			}
			x.Open("ForwardConfig")
			x.Open("TargetGroups")
			for _, g := range f.groups {
				x.Open("member")
				x.Elem("TargetGroupArn", g.arn)
				x.Elem("Weight", strconv.Itoa(g.weight))
				x.Close("member")
			}
			x.Close("TargetGroups")
			x.Open("TargetGroupStickinessConfig")
			x.Elem("Enabled", strconv.FormatBool(f.sticky))
			if f.sticky {
				x.Elem("DurationSeconds", strconv.Itoa(f.stickySeconds))
			}
			x.Close("TargetGroupStickinessConfig")
			x.Close("ForwardConfig")
		}
		x.Tree(a.extra)
		x.Close("member")
	}
	x.Close(name)
}

// ruleView is a rule as DescribeRules shows it, default rules included.
type ruleView struct {
	arn        string
	priority   string
	isDefault  bool
	conditions []*awsproto.Node
	actions    []action
}

func (e *Service) listenerRules(l *listener) []ruleView {
	var rs []*rule
	for _, ru := range e.rules {
		if ru.listenerARN == l.arn {
			rs = append(rs, ru)
		}
	}
	sort.Slice(rs, func(i, j int) bool { return rs[i].priority < rs[j].priority })
	out := make([]ruleView, 0, len(rs)+1)
	for _, ru := range rs {
		out = append(out, viewRule(ru))
	}
	return append(out, ruleView{arn: l.defaultRuleARN, priority: "default", isDefault: true, actions: l.defaultActions})
}

func viewRule(ru *rule) ruleView {
	return ruleView{arn: ru.arn, priority: strconv.Itoa(ru.priority), conditions: ru.conditions, actions: ru.actions}
}

func (e *Service) describeRules(t *awsproto.Node) (string, *awsproto.Error) {
	lisARN, arns := t.Str("ListenerArn"), t.Strings("RuleArns")
	if (lisARN == "") == (len(arns) == 0) {
		return "", awsproto.ValidationErr("You must specify either listener rule ARNs or a listener ARN, but not both")
	}
	var views []ruleView
	if lisARN != "" {
		l, err := e.findListener(lisARN)
		if err != nil {
			return "", err
		}
		views = e.listenerRules(l)
	} else {
		for _, a := range arns {
			if err := checkARN("listener-rule", a); err != nil {
				return "", err
			}
			if ru := e.ruleByARN[a]; ru != nil {
				views = append(views, viewRule(ru))
			} else if l := e.defaultRuleOf(a); l != nil {
				views = append(views, ruleView{arn: a, priority: "default", isDefault: true, actions: l.defaultActions})
			} else {
				return "", awsproto.SenderErr("RuleNotFound", "One or more rules not found: '%s'", a)
			}
		}
	}
	lo, hi, next, err := page(t, len(views))
	if err != nil {
		return "", err
	}
	var x awsproto.XMLWriter
	x.Open("Rules")
	for _, v := range views[lo:hi] {
		writeRule(&x, v)
	}
	x.Close("Rules")
	if next != "" {
		x.Elem("NextMarker", next)
	}
	return x.String(), nil
}

func writeRule(x *awsproto.XMLWriter, v ruleView) {
	x.Open("member")
	x.Elem("RuleArn", v.arn)
	x.Elem("Priority", v.priority)
	x.Elem("IsDefault", strconv.FormatBool(v.isDefault))
	x.Open("Conditions")
	for _, c := range v.conditions {
		x.Open("member")
		x.Tree(c)
		x.Close("member")
	}
	x.Close("Conditions")
	writeActions(x, "Actions", v.actions)
	x.Close("member")
}

func (e *Service) modifyRule(t *awsproto.Node) (string, *awsproto.Error) {
	arn := t.Str("RuleArn")
	if arn == "" {
		return "", awsproto.ValidationErr("RuleArn is required")
	}
	if err := checkARN("listener-rule", arn); err != nil {
		return "", err
	}
	ru := e.ruleByARN[arn]
	if ru == nil {
		if e.defaultRuleOf(arn) != nil {
			return "", awsproto.SenderErr("OperationNotPermitted",
				"Default rule '%s' cannot be modified; modify the listener's default actions with ModifyListener", arn)
		}
		return "", awsproto.SenderErr("RuleNotFound", "One or more rules not found: '%s'", arn)
	}
	var actions []action
	if t.Has("Actions") {
		as, err := e.parseActions(t.List("Actions"))
		if err != nil {
			return "", err
		}
		actions = as
	}
	var conds []*awsproto.Node
	if t.Has("Conditions") {
		cs, err := parseConditions(t.List("Conditions"))
		if err != nil {
			return "", err
		}
		if len(cs) == 0 {
			return "", awsproto.ValidationErr("A non-default rule must have at least one condition")
		}
		conds = cs
	}
	if actions != nil {
		ru.actions = actions
		e.associate(ru.listenerARN, actions)
	}
	if conds != nil {
		ru.conditions = conds
	}
	if actions != nil && e.actionsChanged != nil {
		e.actionsChanged(ru.arn)
	}
	var x awsproto.XMLWriter
	x.Open("Rules")
	writeRule(&x, viewRule(ru))
	x.Close("Rules")
	return x.String(), nil
}

// associate records that a listener's load balancer now uses the target
// groups in actions, as AWS does when a rule first forwards to one.
func (e *Service) associate(listenerARN string, actions []action) {
	l := e.lisByARN[listenerARN]
	if l == nil {
		return
	}
	for _, a := range actions {
		if a.forward == nil {
			continue
		}
		for _, g := range a.forward.groups {
			tg := e.tgByARN[g.arn]
			found := false
			for _, lb := range tg.lbARNs {
				found = found || lb == l.lbARN
			}
			if !found {
				tg.lbARNs = append(tg.lbARNs, l.lbARN)
			}
		}
	}
}

func (e *Service) modifyListener(t *awsproto.Node) (string, *awsproto.Error) {
	arn := t.Str("ListenerArn")
	if arn == "" {
		return "", awsproto.ValidationErr("ListenerArn is required")
	}
	l, err := e.findListener(arn)
	if err != nil {
		return "", err
	}
	var actions []action
	if t.Has("DefaultActions") {
		as, err := e.parseActions(t.List("DefaultActions"))
		if err != nil {
			return "", err
		}
		actions = as
	}
	port := l.port
	if ps := t.Str("Port"); ps != "" {
		p, perr := strconv.Atoi(ps)
		if perr != nil || p < 1 || p > 65535 {
			return "", awsproto.ValidationErr("Port '%s' must be between 1 and 65535", ps)
		}
		port = p
	}
	proto := l.protocol
	if p := t.Str("Protocol"); p != "" {
		if p != "HTTP" && p != "HTTPS" {
			return "", awsproto.SenderErr("UnsupportedProtocol", "Protocol '%s' is not supported by an application load balancer listener", p)
		}
		proto = p
	}
	l.port, l.protocol = port, proto
	if actions != nil {
		l.defaultActions = actions
		e.associate(l.arn, actions)
		if e.actionsChanged != nil {
			e.actionsChanged(l.defaultRuleARN)
		}
	}
	var x awsproto.XMLWriter
	x.Open("Listeners")
	writeListener(&x, l)
	x.Close("Listeners")
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
