package elbv2

import (
	"net/url"
	"strings"
	"testing"

	"github.com/perch-dev/perch/sim/scenario"
)

// FuzzELBv2Request drives the whole ELBv2 handler with arbitrary forms:
// it must answer every one without panicking, and never leave a rule
// that violates the invariants the traffic model relies on.
func FuzzELBv2Request(f *testing.F) {
	f.Add("Action=ModifyRule&RuleArn=RULE&Actions.member.1.Type=forward&Actions.member.1.ForwardConfig.TargetGroups.member.1.TargetGroupArn=STABLE&Actions.member.1.ForwardConfig.TargetGroups.member.1.Weight=5")
	f.Add("Action=ModifyListener&ListenerArn=LISTENER&DefaultActions.member.1.Type=forward&DefaultActions.member.1.TargetGroupArn=CANARY")
	f.Add("Action=DescribeRules&ListenerArn=LISTENER&PageSize=1&Marker=MQ")
	f.Add("Action=DescribeTargetHealth&TargetGroupArn=CANARY&Targets.member.1.Id=i-1")
	sc, err := scenario.Load("bad-targets")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		e := seeded(sc)
		tg := e.targets[0]
		body = strings.NewReplacer("RULE", url.QueryEscape(tg.RuleARN), "LISTENER", url.QueryEscape(tg.ListenerARN),
			"STABLE", url.QueryEscape(tg.StableTargetGroupARN), "CANARY", url.QueryEscape(tg.CanaryTargetGroupARN)).Replace(body)
		req := newFormRequest(body)
		rw := &discardWriter{h: map[string][]string{}}
		e.Serve(rw, req, []byte(body))
		for _, ru := range e.rules {
			checkRuleInvariants(t, ru.actions)
		}
		for _, l := range e.listeners {
			checkRuleInvariants(t, l.defaultActions)
		}
	})
}
