package elbv2

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

const (
	elbv2Version = "2015-12-01"
	elbv2NS      = "http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/"

	maxTargetGroupsPerForward = 5
	maxWeight                 = 999
	maxStickySeconds          = 604800
)

type loadBalancer struct {
	arn     string
	name    string
	id      string
	created time.Time
}

type listener struct {
	arn            string
	lbARN          string
	port           int
	protocol       string
	defaultRuleARN string
	defaultActions []action
}

type rule struct {
	arn         string
	listenerARN string
	priority    int
	conditions  []*awsproto.Node // stored as sent and echoed back
	actions     []action
}

type targetGroup struct {
	arn     string
	name    string
	lbARNs  []string
	port    int
	targets []*tgTarget
}

type tgTarget struct {
	id          string
	port        int
	state       string
	reason      string
	description string
}

// action is one rule action. forward is interpreted (weights drive the
// traffic model and must be validated); every other action type's
// configuration is kept as the client sent it and echoed back.
type action struct {
	typ     string
	order   int
	forward *forwardConfig
	extra   *awsproto.Node
}

type forwardConfig struct {
	groups        []tgWeight
	sticky        bool
	stickySeconds int
}

type tgWeight struct {
	arn    string
	weight int
}

// Service holds the load balancers, listeners, rules and target groups.
// It is guarded by the Sim's mutex.
type Service struct {
	region, account string

	lbs       []*loadBalancer
	listeners []*listener
	rules     []*rule
	tgs       []*targetGroup

	lbByARN   map[string]*loadBalancer
	lisByARN  map[string]*listener
	ruleByARN map[string]*rule
	tgByARN   map[string]*targetGroup
	// tags by resource ARN.
	tags map[string]map[string]string

	// actionsChanged is called after a rule's (or a listener's default)
	// actions were replaced, with the rule ARN; the traffic model records
	// the new weights from it.
	actionsChanged func(ruleARN string)
	// traffic publishes the ALB metrics (StartTraffic).
	traffic *albTraffic
}

// New is an account's ELBv2 in region, empty until seeded.
func New(region, account string) *Service {
	return &Service{
		region:    region,
		account:   account,
		lbByARN:   map[string]*loadBalancer{},
		lisByARN:  map[string]*listener{},
		ruleByARN: map[string]*rule{},
		tgByARN:   map[string]*targetGroup{},
		tags:      map[string]map[string]string{},
	}
}

func (e *Service) arnPrefix() string {
	return "arn:aws:elasticloadbalancing:" + e.region + ":" + e.account + ":"
}

func (e *Service) addLoadBalancer(name, id string, created time.Time) *loadBalancer {
	lb := &loadBalancer{arn: e.arnPrefix() + "loadbalancer/app/" + name + "/" + id, name: name, id: id, created: created}
	e.lbs = append(e.lbs, lb)
	e.lbByARN[lb.arn] = lb
	return lb
}

func (e *Service) addListener(lb *loadBalancer, id, defaultRuleID string, port int, defaults []action) *listener {
	l := &listener{
		arn:            e.arnPrefix() + "listener/app/" + lb.name + "/" + lb.id + "/" + id,
		lbARN:          lb.arn,
		port:           port,
		protocol:       "HTTP",
		defaultRuleARN: e.arnPrefix() + "listener-rule/app/" + lb.name + "/" + lb.id + "/" + id + "/" + defaultRuleID,
		defaultActions: defaults,
	}
	e.listeners = append(e.listeners, l)
	e.lisByARN[l.arn] = l
	return l
}

func (e *Service) addRule(l *listener, id string, priority int, conds []*awsproto.Node, actions []action) *rule {
	ru := &rule{
		arn:         strings.Replace(l.arn, ":listener/", ":listener-rule/", 1) + "/" + id,
		listenerARN: l.arn,
		priority:    priority,
		conditions:  conds,
		actions:     actions,
	}
	e.rules = append(e.rules, ru)
	e.ruleByARN[ru.arn] = ru
	return ru
}

func (e *Service) addTargetGroup(name, id string, lbARN string) *targetGroup {
	tg := &targetGroup{arn: e.arnPrefix() + "targetgroup/" + name + "/" + id, name: name, port: 8080}
	if lbARN != "" {
		tg.lbARNs = []string{lbARN}
	}
	e.tgs = append(e.tgs, tg)
	e.tgByARN[tg.arn] = tg
	return tg
}

// defaultRuleOf returns the listener whose default rule has this ARN.
func (e *Service) defaultRuleOf(ruleARN string) *listener {
	for _, l := range e.listeners {
		if l.defaultRuleARN == ruleARN {
			return l
		}
	}
	return nil
}

// ruleActions returns the current actions of a rule or of a listener's
// default rule.
func (e *Service) ruleActions(ruleARN string) ([]action, bool) {
	if ru := e.ruleByARN[ruleARN]; ru != nil {
		return ru.actions, true
	}
	if l := e.defaultRuleOf(ruleARN); l != nil {
		return l.defaultActions, true
	}
	return nil, false
}

// The ARN shapes AWS uses; a value that does not match is a
// ValidationError, one that matches but is unknown is a NotFound.
var arnShapes = map[string]*regexp.Regexp{
	"loadbalancer":  regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:loadbalancer/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}$`),
	"listener":      regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}/[0-9a-f]{1,32}$`),
	"listener-rule": regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener-rule/(app|net|gwy)/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}/[0-9a-f]{1,32}/[0-9a-f]{1,32}$`),
	"targetgroup":   regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup/[A-Za-z0-9-]{1,32}/[0-9a-f]{1,32}$`),
}

var arnWords = map[string]string{
	"loadbalancer":  "load balancer",
	"listener":      "listener",
	"listener-rule": "listener rule",
	"targetgroup":   "target group",
}

func checkARN(kind, arn string) *awsproto.Error {
	if !arnShapes[kind].MatchString(arn) {
		return awsproto.ValidationErr("'%s' is not a valid %s ARN", arn, arnWords[kind])
	}
	return nil
}

func (e *Service) findLB(arn string) (*loadBalancer, *awsproto.Error) {
	if err := checkARN("loadbalancer", arn); err != nil {
		return nil, err
	}
	lb := e.lbByARN[arn]
	if lb == nil {
		return nil, awsproto.SenderErr("LoadBalancerNotFound", "Load balancer '%s' not found", arn)
	}
	return lb, nil
}

func (e *Service) findListener(arn string) (*listener, *awsproto.Error) {
	if err := checkARN("listener", arn); err != nil {
		return nil, err
	}
	l := e.lisByARN[arn]
	if l == nil {
		return nil, awsproto.SenderErr("ListenerNotFound", "Listener '%s' not found", arn)
	}
	return l, nil
}

func (e *Service) findTG(arn string) (*targetGroup, *awsproto.Error) {
	if err := checkARN("targetgroup", arn); err != nil {
		return nil, err
	}
	tg := e.tgByARN[arn]
	if tg == nil {
		return nil, awsproto.SenderErr("TargetGroupNotFound", "Target groups '%s' not found", arn)
	}
	return tg, nil
}

var actionTypes = map[string]bool{
	"forward": true, "redirect": true, "fixed-response": true,
	"authenticate-oidc": true, "authenticate-cognito": true, "jwt-validation": true,
}

var terminalAction = map[string]bool{"forward": true, "redirect": true, "fixed-response": true}

// parseActions validates an Actions/DefaultActions list the way ELBv2
// does and returns it sorted by Order.
func (e *Service) parseActions(members []*awsproto.Node) ([]action, *awsproto.Error) {
	if len(members) == 0 {
		return nil, awsproto.ValidationErr("At least one action must be specified")
	}
	out := make([]action, 0, len(members))
	seenOrder := map[int]bool{}
	for i, m := range members {
		a := action{typ: m.Str("Type"), order: i + 1}
		if !actionTypes[a.typ] {
			return nil, awsproto.ValidationErr("Action type '%s' is not valid; must be one of forward, redirect, fixed-response, authenticate-oidc, authenticate-cognito, jwt-validation", a.typ)
		}
		if o := m.Str("Order"); o != "" {
			n, err := strconv.Atoi(o)
			if err != nil || n < 1 || n > 50000 {
				return nil, awsproto.ValidationErr("Action order '%s' must be an integer between 1 and 50000", o)
			}
			a.order = n
		} else if len(members) > 1 {
			return nil, awsproto.ValidationErr("An order must be specified for every action when a rule has more than one action")
		}
		if seenOrder[a.order] {
			return nil, awsproto.ValidationErr("Action order %d is used more than once", a.order)
		}
		seenOrder[a.order] = true
		if a.typ == "forward" {
			f, err := e.parseForward(m)
			if err != nil {
				return nil, err
			}
			a.forward = f
			a.extra = m.Without("Type", "Order", "TargetGroupArn", "ForwardConfig").Clone()
		} else {
			if m.Has("ForwardConfig") || m.Has("TargetGroupArn") {
				return nil, awsproto.ValidationErr("A target group can only be specified for a forward action")
			}
			a.extra = m.Without("Type", "Order").Clone()
		}
		out = append(out, a)
	}
	sortActions(out)
	terminals := 0
	for _, a := range out {
		if terminalAction[a.typ] {
			terminals++
		}
	}
	if terminals != 1 {
		return nil, awsproto.ValidationErr("A rule must have exactly one forward, redirect or fixed-response action (found %d)", terminals)
	}
	if last := out[len(out)-1]; !terminalAction[last.typ] {
		return nil, awsproto.ValidationErr("The %s action must be the last action (highest order)", findTerminal(out))
	}
	return out, nil
}

func findTerminal(as []action) string {
	for _, a := range as {
		if terminalAction[a.typ] {
			return a.typ
		}
	}
	return ""
}

func sortActions(as []action) {
	for i := 1; i < len(as); i++ {
		for j := i; j > 0 && as[j].order < as[j-1].order; j-- {
			as[j], as[j-1] = as[j-1], as[j]
		}
	}
}

func (e *Service) parseForward(m *awsproto.Node) (*forwardConfig, *awsproto.Error) {
	legacy := m.Str("TargetGroupArn")
	fc := m.Child("ForwardConfig")
	f := &forwardConfig{}
	members := fc.List("TargetGroups")
	if fc != nil && len(members) > 0 {
		if len(members) > maxTargetGroupsPerForward {
			return nil, awsproto.ValidationErr("A forward action can have at most %d target groups (got %d)", maxTargetGroupsPerForward, len(members))
		}
		seen := map[string]bool{}
		for _, tm := range members {
			arn := tm.Str("TargetGroupArn")
			if arn == "" {
				return nil, awsproto.ValidationErr("A target group ARN must be specified for every target group in a forward action")
			}
			if _, err := e.findTG(arn); err != nil {
				return nil, err
			}
			if seen[arn] {
				return nil, awsproto.ValidationErr("Target group '%s' is specified more than once in the forward action", arn)
			}
			seen[arn] = true
			w := 1
			if ws := tm.Str("Weight"); ws != "" {
				n, err := strconv.Atoi(ws)
				if err != nil || n < 0 || n > maxWeight {
					return nil, awsproto.ValidationErr("Target group weight '%s' is not valid; weights must be integers between 0 and %d", ws, maxWeight)
				}
				w = n
			}
			f.groups = append(f.groups, tgWeight{arn: arn, weight: w})
		}
		if legacy != "" && (len(f.groups) != 1 || f.groups[0].arn != legacy) {
			return nil, awsproto.ValidationErr("When both TargetGroupArn and ForwardConfig are specified, ForwardConfig must contain exactly that one target group")
		}
	} else {
		if legacy == "" {
			return nil, awsproto.ValidationErr("A forward action must specify TargetGroupArn or ForwardConfig.TargetGroups")
		}
		if _, err := e.findTG(legacy); err != nil {
			return nil, err
		}
		f.groups = []tgWeight{{arn: legacy, weight: 1}}
	}
	if sc := fc.Child("TargetGroupStickinessConfig"); sc != nil {
		switch v := sc.Str("Enabled"); v {
		case "", "false":
		case "true":
			f.sticky = true
		default:
			return nil, awsproto.ValidationErr("TargetGroupStickinessConfig.Enabled '%s' is not a boolean", v)
		}
		if d := sc.Str("DurationSeconds"); d != "" {
			n, err := strconv.Atoi(d)
			if err != nil || n < 1 || n > maxStickySeconds {
				return nil, awsproto.ValidationErr("Stickiness duration '%s' must be between 1 and %d seconds", d, maxStickySeconds)
			}
			f.stickySeconds = n
		}
		if f.sticky && f.stickySeconds == 0 {
			return nil, awsproto.ValidationErr("A stickiness duration must be specified when stickiness is enabled")
		}
	}
	return f, nil
}

var conditionFields = map[string]bool{
	"path-pattern": true, "host-header": true, "http-header": true,
	"http-request-method": true, "query-string": true, "source-ip": true,
}

func parseConditions(members []*awsproto.Node) ([]*awsproto.Node, *awsproto.Error) {
	out := make([]*awsproto.Node, 0, len(members))
	for _, m := range members {
		f := m.Str("Field")
		if !conditionFields[f] {
			return nil, awsproto.ValidationErr("Condition field '%s' is not valid", f)
		}
		out = append(out, m.Clone())
	}
	return out, nil
}

// pathCondition builds the stored form of a path-pattern condition, with
// both the legacy Values and PathPatternConfig as AWS returns them.
func pathCondition(pattern string) *awsproto.Node {
	v := awsproto.Leaf(pattern)
	list := func() *awsproto.Node {
		return awsproto.Branch(map[string]*awsproto.Node{"member": awsproto.Branch(map[string]*awsproto.Node{"1": v.Clone()})})
	}
	return awsproto.Branch(map[string]*awsproto.Node{
		"Field":             awsproto.Leaf("path-pattern"),
		"Values":            list(),
		"PathPatternConfig": awsproto.Branch(map[string]*awsproto.Node{"Values": list()}),
	})
}

func forwardAction(f forwardConfig) action {
	// Its own groups: a weight written to one rule must not move another.
	f.groups = append([]tgWeight(nil), f.groups...)
	return action{typ: "forward", order: 1, forward: &f}
}

func fixedResponseAction(status int) action {
	return action{typ: "fixed-response", order: 1, extra: awsproto.Branch(map[string]*awsproto.Node{
		"FixedResponseConfig": awsproto.Branch(map[string]*awsproto.Node{
			"StatusCode":  awsproto.Leaf(strconv.Itoa(status)),
			"ContentType": awsproto.Leaf("text/plain"),
			"MessageBody": awsproto.Leaf(fmt.Sprintf("%d from the simulator", status)),
		}),
	})}
}

func redirectAction(path string) action {
	return action{typ: "redirect", order: 1, extra: awsproto.Branch(map[string]*awsproto.Node{
		"RedirectConfig": awsproto.Branch(map[string]*awsproto.Node{
			"Protocol":   awsproto.Leaf("#{protocol}"),
			"Port":       awsproto.Leaf("#{port}"),
			"Host":       awsproto.Leaf("#{host}"),
			"Path":       awsproto.Leaf(path),
			"Query":      awsproto.Leaf("#{query}"),
			"StatusCode": awsproto.Leaf("HTTP_302"),
		}),
	})}
}
