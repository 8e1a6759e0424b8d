package codedeploy

import (
	"fmt"
	"hash/fnv"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

// targetIDs are the deployment's targets: the ECS service, the Lambda
// alias, or the instances.
func (d *cdDeployment) targetIDs() []string {
	g := d.group
	switch g.platform {
	case cdECS:
		return []string{g.cluster + ":" + g.service}
	case cdLambda:
		return []string{g.function + ":" + g.alias}
	}
	return append([]string(nil), g.instances...)
}

func (d *cdDeployment) targetStatus() string {
	switch d.status {
	case cdStopped, cdFailed:
		return "Failed"
	case cdCreated:
		return "Pending"
	}
	return d.status
}

type cdHookJSON struct {
	LifecycleEventName string   `json:"lifecycleEventName"`
	StartTime          *float64 `json:"startTime,omitempty"`
	EndTime            *float64 `json:"endTime,omitempty"`
	Status             string   `json:"status"`
}

func (d *cdDeployment) hooksJSON(now time.Time) []cdHookJSON {
	out := []cdHookJSON{}
	for _, h := range d.hooks {
		st := h.statusAt(now)
		j := cdHookJSON{LifecycleEventName: h.name, Status: st}
		if st != "Pending" && st != "Skipped" {
			j.StartTime = cdEpoch(h.start)
			if st != "InProgress" {
				j.EndTime = cdEpoch(h.end)
			}
		}
		out = append(out, j)
	}
	return out
}

// taskSetID is a stable ECS task set identifier for a deployment's side.
func taskSetID(deploymentID, side string) string {
	h := fnv.New64a()
	_, _ = h.Write([]byte(deploymentID + "/" + side))
	return fmt.Sprintf("ecs-svc/%019d", h.Sum64()%1e19)
}

type cdTaskSetJSON struct {
	Identifer     string  `json:"identifer"` // sic: the wire name is misspelled
	DesiredCount  int     `json:"desiredCount"`
	PendingCount  int     `json:"pendingCount"`
	RunningCount  int     `json:"runningCount"`
	Status        string  `json:"status"`
	TrafficWeight float64 `json:"trafficWeight"`
	TargetGroup   cdName  `json:"targetGroup"`
	TaskSetLabel  string  `json:"taskSetLabel"`
}

func (c *Service) target(d *cdDeployment, id string) (map[string]any, bool) {
	g := d.group
	now := c.now
	base := map[string]any{
		"deploymentId":    d.id,
		"targetId":        id,
		"status":          d.targetStatus(),
		"lastUpdatedAt":   cdEpoch(d.updated),
		"lifecycleEvents": d.hooksJSON(now),
	}
	switch g.platform {
	case cdECS:
		if id != g.cluster+":"+g.service {
			return nil, false
		}
		base["targetArn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.region, c.account, g.cluster, g.service)
		greenRunning := 0
		if h := d.hook("Install"); h != nil && h.statusAt(now) == "Succeeded" {
			greenRunning = g.desired
		}
		blueStatus, greenStatus := "PRIMARY", "ACTIVE"
		if d.greenPct >= 100 {
			blueStatus, greenStatus = "DRAINING", "PRIMARY"
		}
		if d.rollbackOf != "" || (d.terminal() && d.greenPct == 0) {
			greenStatus = "DRAINING"
		}
		var sets []cdTaskSetJSON
		if !d.blueGone {
			sets = append(sets, cdTaskSetJSON{Identifer: taskSetID(d.id, "blue"), DesiredCount: g.desired, RunningCount: g.desired,
				Status: blueStatus, TrafficWeight: 100 - d.greenPct, TargetGroup: cdName{d.blue.name}, TaskSetLabel: "Blue"})
		}
		sets = append(sets, cdTaskSetJSON{Identifer: taskSetID(d.id, "green"), DesiredCount: g.desired, RunningCount: greenRunning,
			PendingCount: g.desired - greenRunning, Status: greenStatus, TrafficWeight: d.greenPct,
			TargetGroup: cdName{d.green.name}, TaskSetLabel: "Green"})
		base["taskSetsInfo"] = sets
		return map[string]any{"deploymentTargetType": "ECSTarget", "ecsTarget": base}, true
	case cdLambda:
		if id != g.function+":"+g.alias {
			return nil, false
		}
		base["targetArn"] = c.deps.Functions.FunctionARN(g.function) + ":" + g.alias
		base["lambdaFunctionInfo"] = map[string]any{
			"functionName": g.function, "functionAlias": g.alias,
			"currentVersion": d.current, "targetVersion": d.target,
			// The 0-1 fraction the alias carries.
			"targetVersionWeight": d.greenPct / 100,
		}
		return map[string]any{"deploymentTargetType": "LambdaTarget", "lambdaTarget": base}, true
	}
	for _, inst := range g.instances {
		if inst == id {
			base["targetArn"] = fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", c.region, c.account, inst)
			base["instanceLabel"] = "Blue"
			return map[string]any{"deploymentTargetType": "InstanceTarget", "instanceTarget": base}, true
		}
	}
	return nil, false
}

func (c *Service) listDeploymentTargets(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId  string              `json:"deploymentId"`
		NextToken     string              `json:"nextToken"`
		TargetFilters map[string][]string `json:"targetFilters"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	if in.NextToken != "" {
		return nil, cdErr("InvalidNextTokenException", "The next token was specified in an invalid format.")
	}
	for k := range in.TargetFilters {
		if k != "TargetStatus" && k != "ServerInstanceLabel" {
			return nil, cdErr("InvalidTargetFilterNameException", "The target filter name %s is invalid.", k)
		}
	}
	ids := []string{}
	for _, id := range d.targetIDs() {
		if st := in.TargetFilters["TargetStatus"]; len(st) > 0 && !contains(st, d.targetStatus()) {
			continue
		}
		ids = append(ids, id)
	}
	return map[string]any{"targetIds": ids}, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func (c *Service) batchGetDeploymentTargets(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId string   `json:"deploymentId"`
		TargetIds    []string `json:"targetIds"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.TargetIds) == 0 {
		return nil, cdErr("DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
	}
	if len(in.TargetIds) > cdMaxBatch {
		return nil, cdErr("DeploymentTargetListSizeExceededException", "The maximum number of targets that can be associated with an Amazon ECS or AWS Lambda deployment was exceeded.")
	}
	out := []map[string]any{}
	for _, id := range in.TargetIds {
		t, ok := c.target(d, id)
		if !ok {
			return nil, cdErr("DeploymentTargetDoesNotExistException", "The provided target ID does not belong to the attempted deployment: %s", id)
		}
		out = append(out, t)
	}
	return map[string]any{"deploymentTargets": out}, nil
}

func (c *Service) getDeploymentTarget(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId string `json:"deploymentId"`
		TargetId     string `json:"targetId"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	if in.TargetId == "" {
		return nil, cdErr("DeploymentTargetIdRequiredException", "A deployment target ID was not provided.")
	}
	t, ok := c.target(d, in.TargetId)
	if !ok {
		return nil, cdErr("DeploymentTargetDoesNotExistException", "The provided target ID does not belong to the attempted deployment: %s", in.TargetId)
	}
	return map[string]any{"deploymentTarget": t}, nil
}
