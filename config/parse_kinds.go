package config

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

var (
	ruleARNRe     = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:listener-rule/app/[^/]+/[0-9a-f]+/[0-9a-f]+/[0-9a-f]+$`)
	listenerARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:listener/app/[^/]+/[0-9a-f]+/[0-9a-f]+$`)
	functionARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:lambda:([a-z0-9-]+):\d{12}:function:[A-Za-z0-9_-]{1,64}$`)
	functionRe    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	aliasRe       = regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`)
	versionRe     = regexp.MustCompile(`^[0-9]{1,10}$`)
	deploymentRe  = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)
)

// alb reads an alb block and returns the region its ARN names.
func (p *parser) alb(n *yaml.Node, at int, t *Target) string {
	fs := p.mapping(n, "alb", "rule_arn", "listener_arn", "canary_target_group")
	if fs == nil {
		return ""
	}
	region := ""
	if v := fs.get("rule_arn"); v != nil {
		if s, ok := p.str(v, "rule_arn"); ok {
			if m := ruleARNRe.FindStringSubmatch(s); m != nil {
				t.RuleARN, region = s, m[1]
			} else {
				p.errf(v.Line, "rule_arn %q is not a listener rule ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener-rule/app/…)", s)
			}
		}
	}
	if v := fs.get("listener_arn"); v != nil {
		if s, ok := p.str(v, "listener_arn"); ok {
			if m := listenerARNRe.FindStringSubmatch(s); m != nil {
				t.ListenerARN, region = s, m[1]
			} else {
				p.errf(v.Line, "listener_arn %q is not a listener ARN (arn:aws:elasticloadbalancing:REGION:ACCOUNT:listener/app/…)", s)
			}
		}
	}
	switch {
	case fs.has("rule_arn") && fs.has("listener_arn"):
		p.errf(at, "alb: give rule_arn or listener_arn, not both")
	case !fs.has("rule_arn") && !fs.has("listener_arn"):
		p.errf(at, "alb: needs rule_arn (a listener rule) or listener_arn (a listener's default action)")
	}
	if v := fs.get("canary_target_group"); v != nil {
		t.CanaryTargetGroup, _ = p.str(v, "canary_target_group")
	}
	return region
}

func (p *parser) lambda(n *yaml.Node, at int, t *Target) string {
	fs := p.mapping(n, "lambda", "function", "alias", "canary_version")
	if fs == nil {
		return ""
	}
	region := ""
	if v := fs.get("function"); v != nil {
		if s, ok := p.str(v, "function"); ok {
			if m := functionARNRe.FindStringSubmatch(s); m != nil {
				t.Function, region = s, m[1]
			} else if functionRe.MatchString(s) {
				t.Function = s
			} else {
				p.errf(v.Line, "function %q is neither a function name nor a function ARN", s)
			}
		}
	} else {
		p.errf(at, "lambda: needs function")
	}
	if v := fs.get("alias"); v != nil {
		if s, ok := p.str(v, "alias"); ok {
			if aliasRe.MatchString(s) && !versionRe.MatchString(s) {
				t.Alias = s
			} else {
				p.errf(v.Line, "alias %q is not an alias name", s)
			}
		}
	} else {
		p.errf(at, "lambda: needs alias (perch drives an alias that routes between two versions)")
	}
	if v := fs.get("canary_version"); v != nil {
		if s, ok := p.str(v, "canary_version"); ok {
			if versionRe.MatchString(s) {
				t.CanaryVersion = s
			} else {
				p.errf(v.Line, "canary_version %q is not a version number", s)
			}
		}
	}
	return region
}

func (p *parser) codedeploy(n *yaml.Node, at int, t *Target) {
	fs := p.mapping(n, "codedeploy", "deployment_id", "application", "deployment_group")
	if fs == nil {
		return
	}
	if v := fs.get("deployment_id"); v != nil {
		if s, ok := p.str(v, "deployment_id"); ok {
			if deploymentRe.MatchString(s) {
				t.DeploymentID = s
			} else {
				p.errf(v.Line, "deployment_id %q is not a deployment ID (d-XXXXXXXXX)", s)
			}
		}
	}
	if v := fs.get("application"); v != nil {
		t.Application, _ = p.str(v, "application")
	}
	if v := fs.get("deployment_group"); v != nil {
		t.DeploymentGroup, _ = p.str(v, "deployment_group")
	}
	byGroup := fs.has("application") || fs.has("deployment_group")
	switch {
	case fs.has("deployment_id") && byGroup:
		p.errf(at, "codedeploy: give deployment_id, or application with deployment_group, not both")
	case !fs.has("deployment_id") && !byGroup:
		p.errf(at, "codedeploy: needs deployment_id, or application with deployment_group")
	case byGroup && (!fs.has("application") || !fs.has("deployment_group")):
		p.errf(at, "codedeploy: application and deployment_group go together")
	}
}
