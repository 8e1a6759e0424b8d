package codedeploy

import (
	"fmt"

	"github.com/perch-dev/perch/sim/awsproto"
)

func (c *Service) getDeploymentGroup(body []byte) (any, *awsproto.Error) {
	var in struct {
		ApplicationName     string `json:"applicationName"`
		DeploymentGroupName string `json:"deploymentGroupName"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	g, aerr := c.findGroup(in.ApplicationName, in.DeploymentGroupName)
	if aerr != nil {
		return nil, aerr
	}
	alarms := []cdName{}
	for _, a := range g.alarms {
		alarms = append(alarms, cdName{a})
	}
	info := map[string]any{
		"applicationName":              g.app.name,
		"deploymentGroupId":            g.id,
		"deploymentGroupName":          g.name,
		"deploymentConfigName":         g.config,
		"ec2TagFilters":                []any{},
		"onPremisesInstanceTagFilters": []any{},
		"autoScalingGroups":            []any{},
		"serviceRoleArn":               fmt.Sprintf("arn:aws:iam::%s:role/CodeDeployServiceRole", c.account),
		"triggerConfigurations":        []any{},
		"alarmConfiguration":           map[string]any{"enabled": len(g.alarms) > 0, "ignorePollAlarmFailure": false, "alarms": alarms},
		"autoRollbackConfiguration":    cdAutoRollbackJSON{Enabled: g.autoRollback, Events: nonNilStrings(g.rollbackEvents)},
		"deploymentStyle":              g.style(),
		"outdatedInstancesStrategy":    "UPDATE",
		"computePlatform":              g.platform,
		"terminationHookEnabled":       false,
	}
	if bg := g.blueGreen(); bg != nil {
		info["blueGreenDeploymentConfiguration"] = bg
	}
	if lb := g.lbInfo(); lb != nil {
		info["loadBalancerInfo"] = lb
		info["ecsServices"] = []map[string]string{{"serviceName": g.service, "clusterName": g.cluster}}
	}
	if g.platform == cdServer {
		info["ec2TagFilters"] = []map[string]string{{"Key": "Name", "Value": g.name, "Type": "KEY_AND_VALUE"}}
	}
	last := func(ok func(*cdDeployment) bool) map[string]any {
		for i := len(g.deployments) - 1; i >= 0; i-- {
			if d := g.deployments[i]; ok(d) {
				m := map[string]any{"deploymentId": d.id, "status": d.status, "createTime": cdEpoch(d.created)}
				if e := cdEpoch(d.completed); e != nil {
					m["endTime"] = e
				}
				return m
			}
		}
		return nil
	}
	if m := last(func(*cdDeployment) bool { return true }); m != nil {
		info["lastAttemptedDeployment"] = m
	}
	if m := last(func(d *cdDeployment) bool { return d.status == cdSucceeded }); m != nil {
		info["lastSuccessfulDeployment"] = m
	}
	return map[string]any{"deploymentGroupInfo": info}, nil
}

func (c *Service) getDeploymentConfig(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentConfigName string `json:"deploymentConfigName"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	if in.DeploymentConfigName == "" {
		return nil, cdErr("DeploymentConfigNameRequiredException", "The deployment configuration name was not specified.")
	}
	cfg := c.configs[in.DeploymentConfigName]
	if cfg == nil {
		return nil, cdErr("DeploymentConfigDoesNotExistException", "The deployment configuration %s does not exist.", in.DeploymentConfigName)
	}
	info := map[string]any{
		"deploymentConfigId":   cfg.id,
		"deploymentConfigName": cfg.name,
		"computePlatform":      cfg.platform,
		"createTime":           cdEpoch(cfg.created),
	}
	if cfg.platform == cdServer {
		info["minimumHealthyHosts"] = map[string]any{"type": cfg.minHealthyType, "value": cfg.minHealthyValue}
	} else {
		rc := map[string]any{"type": cfg.routing}
		switch cfg.routing {
		case "TimeBasedCanary":
			rc["timeBasedCanary"] = map[string]int{"canaryPercentage": cfg.percentage, "canaryInterval": cfg.interval}
		case "TimeBasedLinear":
			rc["timeBasedLinear"] = map[string]int{"linearPercentage": cfg.percentage, "linearInterval": cfg.interval}
		}
		info["trafficRoutingConfig"] = rc
	}
	return map[string]any{"deploymentConfigInfo": info}, nil
}

func (c *Service) listApplications(body []byte) (any, *awsproto.Error) {
	return map[string]any{"applications": nonNilStrings(awsproto.SortedKeys(c.apps))}, nil
}

func (c *Service) listDeploymentGroups(body []byte) (any, *awsproto.Error) {
	var in struct {
		ApplicationName string `json:"applicationName"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	if in.ApplicationName == "" {
		return nil, cdErr("ApplicationNameRequiredException", "The minimum number of required application names was not specified.")
	}
	a := c.apps[in.ApplicationName]
	if a == nil {
		return nil, cdErr("ApplicationDoesNotExistException", "No application found for name: %s", in.ApplicationName)
	}
	return map[string]any{"applicationName": a.name, "deploymentGroups": nonNilStrings(awsproto.SortedKeys(a.groups))}, nil
}
