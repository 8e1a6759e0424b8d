package elbv2

import (
	"sort"
	"strconv"

	"github.com/perch-dev/perch/sim/awsproto"
)

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
