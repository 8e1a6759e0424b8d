package config

import (
	"regexp"

	"gopkg.in/yaml.v3"
)

var (
	ecsDeploymentARNRe = regexp.MustCompile(`^arn:aws[a-z-]*:ecs:([a-z0-9-]+):\d{12}:service-deployment/[A-Za-z0-9_-]{1,255}/[A-Za-z0-9_-]{1,255}/[A-Za-z0-9]+$`)
	ecsNameRe          = regexp.MustCompile(`^[A-Za-z0-9_-]{1,255}$`)
)

// ecs reads an ecs block (a service deployment by ARN, or a service to
// follow) and returns the region the ARN names.
func (p *parser) ecs(n *yaml.Node, at int, t *Target) string {
	fs := p.mapping(n, "ecs", "cluster", "service", "deployment_arn")
	if fs == nil {
		return ""
	}
	region := ""
	if v := fs.get("deployment_arn"); v != nil {
		if s, ok := p.str(v, "deployment_arn"); ok {
			if m := ecsDeploymentARNRe.FindStringSubmatch(s); m != nil {
				t.DeploymentARN, region = s, m[1]
			} else {
				p.errf(v.Line, "deployment_arn %q is not an ECS service deployment ARN (arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID)", s)
			}
		}
	}
	for _, f := range []struct {
		key string
		to  *string
	}{{"cluster", &t.Cluster}, {"service", &t.Service}} {
		if v := fs.get(f.key); v != nil {
			if s, ok := p.str(v, f.key); ok {
				if ecsNameRe.MatchString(s) {
					*f.to = s
				} else {
					p.errf(v.Line, "%s %q is not an ECS %s name", f.key, s, f.key)
				}
			}
		}
	}
	switch {
	case fs.has("deployment_arn") && (fs.has("service") || fs.has("cluster")):
		p.errf(at, "ecs: give deployment_arn, or service (with cluster), not both")
	case !fs.has("deployment_arn") && !fs.has("service"):
		p.errf(at, "ecs: needs service (with cluster, default \"default\"), or deployment_arn")
	}
	return region
}
