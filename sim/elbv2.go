package sim

import (
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"
)

// parseQueryRequest decodes an awsQuery request: the form body, or the URL
// query for the GET form some old clients use.
// queryAction names an awsQuery request's operation: the form body's
// Action, or the URL's for a GET.
func queryAction(r *http.Request, body []byte) string {
	form, err := url.ParseQuery(string(body))
	if err == nil && form.Get("Action") != "" {
		return form.Get("Action")
	}
	return r.URL.Query().Get("Action")
}

func parseQueryRequest(r *http.Request, body []byte) (*qnode, *apiError) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, validationErr("malformed form body: %v", err)
	}
	if form.Get("Action") == "" {
		for k, v := range r.URL.Query() {
			form[k] = v
		}
	}
	t, err := parseQueryTree(form)
	if err != nil {
		return nil, validationErr("%v", err)
	}
	return t, nil
}

func writeQuery(w http.ResponseWriter, ns, op, result string, aerr *apiError) {
	reqID := w.Header().Get("X-Amzn-Requestid")
	w.Header().Set("Content-Type", "text/xml")
	if aerr != nil {
		w.WriteHeader(aerr.Status)
		_, _ = io.WriteString(w, queryErrorXML(ns, aerr, reqID))
		return
	}
	_, _ = io.WriteString(w, queryResponseXML(ns, op, result, reqID))
}

type elbv2Handler func(e *elbv2, t *qnode) (string, *apiError)

var elbv2Ops = map[string]elbv2Handler{
	"DescribeLoadBalancers": (*elbv2).describeLoadBalancers,
	"DescribeListeners":     (*elbv2).describeListeners,
	"DescribeRules":         (*elbv2).describeRules,
	"ModifyRule":            (*elbv2).modifyRule,
	"ModifyListener":        (*elbv2).modifyListener,
	"DescribeTargetGroups":  (*elbv2).describeTargetGroups,
	"DescribeTargetHealth":  (*elbv2).describeTargetHealth,
	"AddTags":               (*elbv2).addTags,
	"RemoveTags":            (*elbv2).removeTags,
	"DescribeTags":          (*elbv2).describeTags,
}

func (e *elbv2) operation(r *http.Request, body []byte) string { return queryAction(r, body) }

func (e *elbv2) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	t, aerr := parseQueryRequest(r, body)
	if aerr != nil {
		writeQuery(w, elbv2NS, "", "", aerr)
		return
	}
	op := t.str("Action")
	if v := t.str("Version"); v != "" && v != elbv2Version {
		writeQuery(w, elbv2NS, op, "", senderErr("InvalidAction",
			"Could not find operation %s for version %s", op, v))
		return
	}
	h := elbv2Ops[op]
	if h == nil {
		writeQuery(w, elbv2NS, op, "", senderErr("InvalidAction",
			"Could not find operation %s for version %s (the simulator supports %v)", op, elbv2Version, sortedKeys(elbv2Ops)))
		return
	}
	result, aerr := h(e, t)
	writeQuery(w, elbv2NS, op, result, aerr)
}

// page applies Marker/PageSize to n items. Markers are opaque to clients
// but are simply the next index here.
func page(t *qnode, n int) (lo, hi int, next string, err *apiError) {
	size := 400
	if ps := t.str("PageSize"); ps != "" {
		v, perr := strconv.Atoi(ps)
		if perr != nil || v < 1 || v > 400 {
			return 0, 0, "", validationErr("Page size '%s' must be between 1 and 400", ps)
		}
		size = v
	}
	if m := t.str("Marker"); m != "" {
		raw, derr := base64.RawURLEncoding.DecodeString(m)
		v, perr := strconv.Atoi(string(raw))
		if derr != nil || perr != nil || v < 0 || v > n {
			return 0, 0, "", validationErr("Invalid marker '%s'", m)
		}
		lo = v
	}
	hi = min(lo+size, n)
	if hi < n {
		next = base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(hi)))
	}
	return lo, hi, next, nil
}

func (e *elbv2) describeLoadBalancers(t *qnode) (string, *apiError) {
	arns, names := t.strings("LoadBalancerArns"), t.strings("Names")
	if len(arns) > 0 && len(names) > 0 {
		return "", validationErr("Load balancer names and load balancer ARNs cannot be specified at the same time")
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
				return "", senderErr("LoadBalancerNotFound", "Load balancers '[%s]' not found", nm)
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
	var x xmlw
	x.open("LoadBalancers")
	for _, lb := range lbs[lo:hi] {
		x.open("member")
		x.elem("LoadBalancerArn", lb.arn)
		x.elem("DNSName", lb.name+"-"+lb.id[:10]+"."+e.region+".elb.amazonaws.com")
		x.elem("CanonicalHostedZoneId", "Z35SXDOTRQ7X7K")
		x.elem("CreatedTime", lb.created.UTC().Format(time.RFC3339))
		x.elem("LoadBalancerName", lb.name)
		x.elem("Scheme", "internet-facing")
		x.elem("VpcId", "vpc-0sim"+lb.id[:8])
		x.open("State")
		x.elem("Code", "active")
		x.close("State")
		x.elem("Type", "application")
		x.elem("IpAddressType", "ipv4")
		x.open("AvailabilityZones")
		for _, az := range []string{"a", "b"} {
			x.open("member")
			x.elem("ZoneName", e.region+az)
			x.elem("SubnetId", "subnet-0sim"+az+lb.id[:8])
			x.close("member")
		}
		x.close("AvailabilityZones")
		x.close("member")
	}
	x.close("LoadBalancers")
	if next != "" {
		x.elem("NextMarker", next)
	}
	return x.String(), nil
}

func (e *elbv2) describeListeners(t *qnode) (string, *apiError) {
	lbARN, arns := t.str("LoadBalancerArn"), t.strings("ListenerArns")
	if (lbARN == "") == (len(arns) == 0) {
		return "", validationErr("You must specify either listener ARNs or a load balancer ARN, but not both")
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
	var x xmlw
	x.open("Listeners")
	for _, l := range ls[lo:hi] {
		writeListener(&x, l)
	}
	x.close("Listeners")
	if next != "" {
		x.elem("NextMarker", next)
	}
	return x.String(), nil
}

func writeListener(x *xmlw, l *listener) {
	x.open("member")
	x.elem("ListenerArn", l.arn)
	x.elem("LoadBalancerArn", l.lbARN)
	x.elem("Port", strconv.Itoa(l.port))
	x.elem("Protocol", l.protocol)
	writeActions(x, "DefaultActions", l.defaultActions)
	x.close("member")
}

func writeActions(x *xmlw, name string, as []action) {
	x.open(name)
	for _, a := range as {
		x.open("member")
		x.elem("Type", a.typ)
		x.elem("Order", strconv.Itoa(a.order))
		if f := a.forward; f != nil {
			// AWS returns the legacy TargetGroupArn alongside ForwardConfig
			// when the forward has a single group.
			if len(f.groups) == 1 {
				x.elem("TargetGroupArn", f.groups[0].arn)
			}
			x.open("ForwardConfig")
			x.open("TargetGroups")
			for _, g := range f.groups {
				x.open("member")
				x.elem("TargetGroupArn", g.arn)
				x.elem("Weight", strconv.Itoa(g.weight))
				x.close("member")
			}
			x.close("TargetGroups")
			x.open("TargetGroupStickinessConfig")
			x.elem("Enabled", strconv.FormatBool(f.sticky))
			if f.sticky {
				x.elem("DurationSeconds", strconv.Itoa(f.stickySeconds))
			}
			x.close("TargetGroupStickinessConfig")
			x.close("ForwardConfig")
		}
		x.tree(a.extra)
		x.close("member")
	}
	x.close(name)
}

// ruleView is a rule as DescribeRules shows it, default rules included.
type ruleView struct {
	arn        string
	priority   string
	isDefault  bool
	conditions []*qnode
	actions    []action
}

func (e *elbv2) listenerRules(l *listener) []ruleView {
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

func (e *elbv2) describeRules(t *qnode) (string, *apiError) {
	lisARN, arns := t.str("ListenerArn"), t.strings("RuleArns")
	if (lisARN == "") == (len(arns) == 0) {
		return "", validationErr("You must specify either listener rule ARNs or a listener ARN, but not both")
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
				return "", senderErr("RuleNotFound", "One or more rules not found: '%s'", a)
			}
		}
	}
	lo, hi, next, err := page(t, len(views))
	if err != nil {
		return "", err
	}
	var x xmlw
	x.open("Rules")
	for _, v := range views[lo:hi] {
		writeRule(&x, v)
	}
	x.close("Rules")
	if next != "" {
		x.elem("NextMarker", next)
	}
	return x.String(), nil
}

func writeRule(x *xmlw, v ruleView) {
	x.open("member")
	x.elem("RuleArn", v.arn)
	x.elem("Priority", v.priority)
	x.elem("IsDefault", strconv.FormatBool(v.isDefault))
	x.open("Conditions")
	for _, c := range v.conditions {
		x.open("member")
		x.tree(c)
		x.close("member")
	}
	x.close("Conditions")
	writeActions(x, "Actions", v.actions)
	x.close("member")
}

func (e *elbv2) modifyRule(t *qnode) (string, *apiError) {
	arn := t.str("RuleArn")
	if arn == "" {
		return "", validationErr("RuleArn is required")
	}
	if err := checkARN("listener-rule", arn); err != nil {
		return "", err
	}
	ru := e.ruleByARN[arn]
	if ru == nil {
		if e.defaultRuleOf(arn) != nil {
			return "", senderErr("OperationNotPermitted",
				"Default rule '%s' cannot be modified; modify the listener's default actions with ModifyListener", arn)
		}
		return "", senderErr("RuleNotFound", "One or more rules not found: '%s'", arn)
	}
	var actions []action
	if t.has("Actions") {
		as, err := e.parseActions(t.list("Actions"))
		if err != nil {
			return "", err
		}
		actions = as
	}
	var conds []*qnode
	if t.has("Conditions") {
		cs, err := parseConditions(t.list("Conditions"))
		if err != nil {
			return "", err
		}
		if len(cs) == 0 {
			return "", validationErr("A non-default rule must have at least one condition")
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
	var x xmlw
	x.open("Rules")
	writeRule(&x, viewRule(ru))
	x.close("Rules")
	return x.String(), nil
}

// associate records that a listener's load balancer now uses the target
// groups in actions, as AWS does when a rule first forwards to one.
func (e *elbv2) associate(listenerARN string, actions []action) {
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

func (e *elbv2) modifyListener(t *qnode) (string, *apiError) {
	arn := t.str("ListenerArn")
	if arn == "" {
		return "", validationErr("ListenerArn is required")
	}
	l, err := e.findListener(arn)
	if err != nil {
		return "", err
	}
	var actions []action
	if t.has("DefaultActions") {
		as, err := e.parseActions(t.list("DefaultActions"))
		if err != nil {
			return "", err
		}
		actions = as
	}
	port := l.port
	if ps := t.str("Port"); ps != "" {
		p, perr := strconv.Atoi(ps)
		if perr != nil || p < 1 || p > 65535 {
			return "", validationErr("Port '%s' must be between 1 and 65535", ps)
		}
		port = p
	}
	proto := l.protocol
	if p := t.str("Protocol"); p != "" {
		if p != "HTTP" && p != "HTTPS" {
			return "", senderErr("UnsupportedProtocol", "Protocol '%s' is not supported by an application load balancer listener", p)
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
	var x xmlw
	x.open("Listeners")
	writeListener(&x, l)
	x.close("Listeners")
	return x.String(), nil
}

func (e *elbv2) describeTargetGroups(t *qnode) (string, *apiError) {
	arns, names, lbARN := t.strings("TargetGroupArns"), t.strings("Names"), t.str("LoadBalancerArn")
	given := 0
	for _, b := range []bool{len(arns) > 0, len(names) > 0, lbARN != ""} {
		if b {
			given++
		}
	}
	if given > 1 {
		return "", validationErr("Specify at most one of TargetGroupArns, Names and LoadBalancerArn")
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
				return "", senderErr("TargetGroupNotFound", "One or more target groups not found: '%s'", nm)
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
	var x xmlw
	x.open("TargetGroups")
	for _, tg := range tgs[lo:hi] {
		x.open("member")
		x.elem("TargetGroupArn", tg.arn)
		x.elem("TargetGroupName", tg.name)
		x.elem("Protocol", "HTTP")
		x.elem("ProtocolVersion", "HTTP1")
		x.elem("Port", strconv.Itoa(tg.port))
		x.elem("VpcId", "vpc-0simulated")
		x.elem("HealthCheckProtocol", "HTTP")
		x.elem("HealthCheckPort", "traffic-port")
		x.elem("HealthCheckEnabled", "true")
		x.elem("HealthCheckIntervalSeconds", "30")
		x.elem("HealthCheckTimeoutSeconds", "5")
		x.elem("HealthyThresholdCount", "5")
		x.elem("UnhealthyThresholdCount", "2")
		x.elem("HealthCheckPath", "/healthz")
		x.open("Matcher")
		x.elem("HttpCode", "200")
		x.close("Matcher")
		x.open("LoadBalancerArns")
		for _, a := range tg.lbARNs {
			x.elem("member", a)
		}
		x.close("LoadBalancerArns")
		x.elem("TargetType", "instance")
		x.elem("IpAddressType", "ipv4")
		x.close("member")
	}
	x.close("TargetGroups")
	if next != "" {
		x.elem("NextMarker", next)
	}
	return x.String(), nil
}

func (e *elbv2) describeTargetHealth(t *qnode) (string, *apiError) {
	arn := t.str("TargetGroupArn")
	if arn == "" {
		return "", validationErr("TargetGroupArn is required")
	}
	tg, err := e.findTG(arn)
	if err != nil {
		return "", err
	}
	targets := tg.targets
	if want := t.list("Targets"); len(want) > 0 {
		targets = nil
		for _, w := range want {
			id := w.str("Id")
			var found *tgTarget
			for _, tt := range tg.targets {
				if tt.id == id && (w.str("Port") == "" || w.str("Port") == strconv.Itoa(tt.port)) {
					found = tt
				}
			}
			if found == nil {
				port, _ := strconv.Atoi(w.str("Port"))
				found = &tgTarget{id: id, port: port, state: "unused", reason: "Target.NotRegistered",
					description: "Target is not registered to the target group"}
			}
			targets = append(targets, found)
		}
	}
	var x xmlw
	x.open("TargetHealthDescriptions")
	for _, tt := range targets {
		x.open("member")
		x.open("Target")
		x.elem("Id", tt.id)
		if tt.port != 0 {
			x.elem("Port", strconv.Itoa(tt.port))
		}
		x.close("Target")
		x.elem("HealthCheckPort", strconv.Itoa(tg.port))
		x.open("TargetHealth")
		x.elem("State", tt.state)
		if tt.reason != "" {
			x.elem("Reason", tt.reason)
			x.elem("Description", tt.description)
		}
		x.close("TargetHealth")
		x.close("member")
	}
	x.close("TargetHealthDescriptions")
	return x.String(), nil
}
