package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
)

func TestLoadExample(t *testing.T) {
	f, err := Load("testdata/perch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if f.PublishDelay != 90*time.Second || f.Lookback != 2*time.Minute {
		t.Errorf("publish_delay %v lookback %v", f.PublishDelay, f.Lookback)
	}
	if got := f.Names(); !reflect.DeepEqual(got, []string{"checkout", "payments", "billing"}) {
		t.Fatalf("names %v", got)
	}
	co, _ := f.ByName("checkout")
	if co.Kind != model.KindALB || co.Region != "us-east-1" || co.Profile != "prod" || co.CanaryTargetGroup != "checkout-green" {
		t.Errorf("checkout: %+v", co)
	}
	if co.Line != 11 {
		t.Errorf("checkout starts on line %d, want 11", co.Line)
	}
	if co.Plan == nil || co.Plan.String() != "5%:10m,25%:10m,50%:10m,100%" {
		t.Errorf("checkout inherits the default plan, got %v", co.Plan)
	}
	if !reflect.DeepEqual(co.Alarms, []string{"checkout-canary-5xx", "checkout-p99"}) {
		t.Errorf("a target's alarms replace the default's: %v", co.Alarms)
	}
	if len(co.Custom) != 2 {
		t.Fatalf("custom %+v", co.Custom)
	}
	want := []model.CustomSignal{{Name: "orders", Tolerance: 0.2}, {Name: "failed_share", HigherIsWorse: true, Tolerance: DefaultTolerance}}
	if got := co.Judge(); !reflect.DeepEqual(got, want) {
		t.Errorf("judge %+v, want %+v", got, want)
	}

	pay, _ := f.ByName("payments")
	if pay.Kind != model.KindLambda || pay.Function != "payments" || pay.Alias != "live" || pay.CanaryVersion != "8" ||
		pay.Region != "eu-west-1" || pay.Profile != "payments-prod" {
		t.Errorf("payments: %+v", pay)
	}
	if !reflect.DeepEqual(pay.Ladder, model.Ladder{0, 10, 50, 100}) {
		t.Errorf("ladder %v", pay.Ladder)
	}
	if pay.Plan == nil || pay.Plan.Name != "careful" || pay.Plan.String() != "10%:10m,100%" {
		t.Errorf("plan %+v", pay.Plan)
	}
	if !reflect.DeepEqual(pay.Alarms, []string{"edge-5xx"}) {
		t.Errorf("payments inherits the default alarms: %v", pay.Alarms)
	}

	bill, _ := f.ByName("billing")
	if bill.Kind != model.KindCodeDeploy || bill.Application != "billing" || bill.DeploymentGroup != "prod" {
		t.Errorf("billing %+v", bill)
	}
	if bill.Plan != nil {
		t.Errorf("a CodeDeploy target must not inherit a plan: %v", bill.Plan)
	}
	if len(bill.Alarms) != 0 {
		t.Errorf("alarms: [] clears the default: %v", bill.Alarms)
	}
}

func TestExpandPlaceholders(t *testing.T) {
	f, err := Load("testdata/perch.yaml")
	if err != nil {
		t.Fatal(err)
	}
	co, _ := f.ByName("checkout")
	vals := map[string]string{"target_group": "targetgroup/checkout-green/73e2d6bc24d8a067", "name": "checkout-green"}
	d, err := co.Custom[0].Expand(model.Canary, vals)
	if err != nil {
		t.Fatal(err)
	}
	want := []model.Dimension{{Name: "TargetGroup", Value: "targetgroup/checkout-green/73e2d6bc24d8a067"}, {Name: "Side", Value: "canary"}}
	if d.Metric == nil || !reflect.DeepEqual(d.Metric.Dimensions, want) {
		t.Errorf("expanded %+v", d.Metric)
	}
	// The template itself is untouched: the other side expands from it too.
	if v := co.Custom[0].Both.Metric.Dimensions[0].Value; v != "${side.target_group}" {
		t.Errorf("template changed: %q", v)
	}
	d, err = co.Custom[1].Expand(model.Stable, map[string]string{"target_group": "targetgroup/blue/1"})
	if err != nil {
		t.Fatal(err)
	}
	if d.Expression != "100 * failed / FILL(orders, 1)" || len(d.Inputs) != 2 || d.Inputs[1].Metric.Dimensions[0].Value != "targetgroup/blue/1" {
		t.Errorf("expression %+v", d)
	}
	if _, err := co.Custom[0].Expand(model.Stable, map[string]string{}); err == nil {
		t.Error("a placeholder without a value must be an error, not an empty dimension")
	}

	pay, _ := f.ByName("payments")
	d, err = pay.Custom[0].Expand(model.Canary, map[string]string{"version": "8"})
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Metric.Dimensions[0].Value; got != "canary-8" {
		t.Errorf("per-side definition: %q", got)
	}
}

// TestErrorsNameTheLine: each broken file reports its problem at the line
// it is on.
func TestECSTarget(t *testing.T) {
	f, err := Parse([]byte("defaults: {region: us-east-1, plan: \"10%:1m,100%\"}\ntargets:\n  - name: web\n    ecs: {cluster: prod, service: web}\n" +
		"  - name: one\n    ecs: {deployment_arn: arn:aws:ecs:eu-west-1:123456789012:service-deployment/prod/web/AbC1}\n"))
	if err != nil {
		t.Fatal(err)
	}
	web, _ := f.ByName("web")
	one, _ := f.ByName("one")
	if web.Kind != model.KindECS || web.Cluster != "prod" || web.Service != "web" || web.Plan != nil {
		t.Fatalf("web: %+v", web)
	}
	if one.DeploymentARN == "" || one.Region != "eu-west-1" {
		t.Fatalf("one: %+v", one)
	}
}

func TestErrorsNameTheLine(t *testing.T) {
	const rule = "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee"
	cases := []struct {
		name, yaml string
		line       int
		want       string
	}{
		{"unknown top key", "targets: []\nfleet: x\n", 2, `unknown key "fleet"`},
		{"no targets", "defaults: {region: us-east-1}\n", 1, "no targets"},
		{"empty targets", "targets: []\n", 1, "at least one target"},
		{"unknown target key", "targets:\n  - name: a\n    alb: {rule_arn: " + rule + "}\n    wieght: 5\n", 4, `unknown key "wieght"`},
		{"no kind", "targets:\n  - name: a\n    region: us-east-1\n", 2, "one of alb, lambda, codedeploy or ecs"},
		{"ecs half", "targets:\n  - name: a\n    ecs:\n      cluster: prod\n", 3, "needs service"},
		{"ecs arn and service", "targets:\n  - name: a\n    ecs: {service: web, deployment_arn: arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/AbC1}\n", 3, "not both"},
		{"ecs bad arn", "targets:\n  - name: a\n    ecs:\n      deployment_arn: arn:aws:ecs:us-east-1:123456789012:service/prod/web\n", 4, "not an ECS service deployment ARN"},
		{"ecs plan", "targets:\n  - name: a\n    ecs: {service: web}\n    plan: \"10%:1m,100%\"\n", 4, "perch runs no plan"},
		{"two kinds", "targets:\n  - name: a\n    alb: {rule_arn: " + rule + "}\n    lambda: {function: f, alias: live}\n", 4, "both given"},
		{"bad arn", "targets:\n  - name: a\n    alb:\n      rule_arn: arn:aws:elasticloadbalancing:us-east-1:1:listener/app/x/1/2\n", 4, "not a listener rule ARN"},
		{"region mismatch", "targets:\n  - name: a\n    alb: {rule_arn: " + rule + "}\n    region: eu-west-1\n", 4, "ARN is in us-east-1"},
		{"bad region", "defaults:\n  region: mars\ntargets:\n  - {name: a, lambda: {function: f, alias: live}}\n", 2, "does not look like an AWS region"},
		{"duplicate name", "targets:\n  - {name: a, lambda: {function: f, alias: live}}\n  - {name: a, lambda: {function: g, alias: live}}\n", 3, "already used on line 2"},
		{"duplicate key", "targets:\n  - name: a\n    name: b\n    lambda: {function: f, alias: live}\n", 3, "already given on line 2"},
		{"lambda without alias", "targets:\n  - name: a\n    lambda:\n      function: f\n", 3, "needs alias"},
		{"bad version", "targets:\n  - name: a\n    lambda: {function: f, alias: live, canary_version: latest}\n", 3, "not a version number"},
		{"codedeploy half", "targets:\n  - name: a\n    codedeploy:\n      application: x\n", 3, "go together"},
		{"codedeploy plan", "targets:\n  - name: a\n    codedeploy: {deployment_id: d-ABCDEFGH1}\n    plan: \"10%:1m,100%\"\n", 4, "perch runs no plan"},
		{"bad ladder", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    ladder: [0, 50, 20]\n", 4, "must increase"},
		{"bad plan string", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    plan: \"50%:1m,10%\"\n", 4, "does not increase"},
		{"bad plan step", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    plan:\n      steps:\n        - {percent: 10, bake: 5m}\n        - {percent: 5, bake: 5m}\n        - {percent: 100}\n", 7, "does not increase"},
		{"unknown plan key", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    plan:\n      steps:\n        - {percent: 10, bake: 5m}\n      rollback: true\n", 7, `unknown field "rollback"`},
		{"bad publish delay", "publish_delay: soon\ntargets:\n  - {name: a, lambda: {function: f, alias: live}}\n", 1, "not a duration"},
		{"paused not bool", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    paused: yes please\n", 4, "not true or false"},
		{"alarm twice", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    alarms:\n      - x\n      - x\n", 6, "listed twice"},
		{"custom no direction", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: orders\n        metric: {namespace: S, name: O, stat: Sum}\n", 5, "needs direction"},
		{"custom builtin name", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: requests\n        direction: lower_is_worse\n        metric: {namespace: S, name: O, stat: Sum}\n", 5, "perch's own signals"},
		{"custom bad stat", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: orders\n        direction: lower_is_worse\n        metric:\n          namespace: S\n          name: O\n          stat: Median\n", 10, `stat "Median"`},
		{"custom unknown key", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: orders\n        direction: lower_is_worse\n        metric: {namespace: S, name: O, stat: Sum, unit: Count}\n", 7, `unknown key "unit"`},
		{"placeholder for other kind", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: orders\n        direction: lower_is_worse\n        metric:\n          namespace: S\n          name: O\n          stat: Sum\n          dimensions: {TargetGroup: \"${side.target_group}\"}\n", 11, "unknown placeholder ${side.target_group} for a lambda target"},
		{"unused input", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: ratio\n        direction: higher_is_worse\n        expression: \"a / b\"\n        metrics:\n          a: {namespace: S, name: A, stat: Sum}\n          b: {namespace: S, name: B, stat: Sum}\n          c: {namespace: S, name: C, stat: Sum}\n", 11, `metric "c" is not used`},
		{"metric and expression", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: ratio\n        direction: higher_is_worse\n        expression: \"a\"\n        metric: {namespace: S, name: A, stat: Sum}\n", 5, "not both"},
		{"one side only", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: ratio\n        direction: higher_is_worse\n        canary: {metric: {namespace: S, name: A, stat: Sum}}\n", 5, "canary given without stable"},
		{"bad period", "targets:\n  - name: a\n    lambda: {function: f, alias: live}\n    custom:\n      - name: o\n        direction: higher_is_worse\n        period: 90s\n        metric: {namespace: S, name: A, stat: Sum}\n", 7, "whole minutes"},
		{"not yaml", "targets:\n  - name: a\n    region: x: y\n", 3, "not valid YAML"},
		{"empty", "", 1, "empty"},
		{"not a mapping", "- a\n- b\n", 1, "want a mapping"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse([]byte(c.yaml))
			var es *Errors
			if !errors.As(err, &es) {
				t.Fatalf("want *Errors, got %v", err)
			}
			for _, e := range es.List {
				if e.Line == c.line && strings.Contains(e.Msg, c.want) {
					return
				}
			}
			t.Errorf("want an error on line %d containing %q, got:\n%v", c.line, c.want, err)
		})
	}
}

func TestErrorsListEveryProblemWithTheFileName(t *testing.T) {
	src := "targets:\n  - name: a\n    lambda: {function: f}\n  - name: b\n    alb: {}\n"
	_, err := Parse([]byte(src))
	var es *Errors
	if !errors.As(err, &es) || len(es.List) < 2 {
		t.Fatalf("want both targets' problems, got %v", err)
	}
	es.File = "perch.yaml"
	lines := strings.Split(es.Error(), "\n")
	if !strings.HasPrefix(lines[0], "perch.yaml:3: ") || !strings.HasPrefix(lines[1], "perch.yaml:5: ") {
		t.Errorf("want file:line: prefixes in file order, got\n%s", es.Error())
	}
}

func TestRegionFromARN(t *testing.T) {
	src := `
defaults: {region: us-east-1}
targets:
  - name: a
    lambda: {function: "arn:aws:lambda:ap-south-1:123456789012:function:orders", alias: live}
  - name: b
    lambda: {function: orders, alias: live}
`
	f, err := Parse([]byte(src))
	if err != nil {
		t.Fatal(err)
	}
	if f.Targets[0].Region != "ap-south-1" || f.Targets[1].Region != "us-east-1" {
		t.Errorf("regions %q %q", f.Targets[0].Region, f.Targets[1].Region)
	}
}
