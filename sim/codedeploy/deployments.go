package codedeploy

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
)

func (c *Service) getDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId string `json:"deploymentId"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	return map[string]any{"deploymentInfo": d.info()}, nil
}

func (c *Service) batchGetDeployments(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentIds []string `json:"deploymentIds"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	if len(in.DeploymentIds) == 0 {
		return nil, cdErr("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
	}
	if len(in.DeploymentIds) > cdMaxBatch {
		return nil, cdErr("BatchLimitExceededException", "The maximum number of deployment IDs (%d) was exceeded.", cdMaxBatch)
	}
	out := []cdDeploymentJSON{}
	for _, id := range in.DeploymentIds {
		if !deploymentIDPattern.MatchString(id) {
			return nil, cdErr("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: %s", id)
		}
		// Unknown IDs are left out, as CodeDeploy does.
		if d := c.byID[id]; d != nil {
			out = append(out, d.info())
		}
	}
	return map[string]any{"deploymentsInfo": out}, nil
}

var cdStatuses = map[string]bool{"Created": true, "Queued": true, "InProgress": true, "Baking": true,
	"Succeeded": true, "Failed": true, "Stopped": true, "Ready": true}

func (c *Service) listDeployments(body []byte) (any, *awsproto.Error) {
	var in struct {
		ApplicationName     string   `json:"applicationName"`
		DeploymentGroupName string   `json:"deploymentGroupName"`
		IncludeOnlyStatuses []string `json:"includeOnlyStatuses"`
		CreateTimeRange     *struct {
			Start *float64 `json:"start"`
			End   *float64 `json:"end"`
		} `json:"createTimeRange"`
		NextToken string `json:"nextToken"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	var groups []*cdGroup
	switch {
	case in.ApplicationName == "" && in.DeploymentGroupName == "":
		for _, an := range awsproto.SortedKeys(c.apps) {
			for _, gn := range awsproto.SortedKeys(c.apps[an].groups) {
				groups = append(groups, c.apps[an].groups[gn])
			}
		}
	case in.ApplicationName == "":
		return nil, cdErr("ApplicationNameRequiredException", "An application name must be specified with a deployment group name.")
	case in.DeploymentGroupName == "":
		return nil, cdErr("DeploymentGroupNameRequiredException", "A deployment group name must be specified with an application name.")
	default:
		g, aerr := c.findGroup(in.ApplicationName, in.DeploymentGroupName)
		if aerr != nil {
			return nil, aerr
		}
		groups = []*cdGroup{g}
	}
	want := map[string]bool{}
	for _, s := range in.IncludeOnlyStatuses {
		if !cdStatuses[s] {
			return nil, cdErr("InvalidDeploymentStatusException", "The deployment status %s is not valid.", s)
		}
		want[s] = true
	}
	var from, to time.Time
	if r := in.CreateTimeRange; r != nil {
		if r.Start != nil {
			from = time.UnixMilli(int64(*r.Start * 1000))
		}
		if r.End != nil {
			to = time.UnixMilli(int64(*r.End * 1000))
		}
		if !from.IsZero() && !to.IsZero() && to.Before(from) {
			return nil, cdErr("InvalidTimeRangeException", "The specified time range is not valid: the end is before the start.")
		}
	}
	var all []*cdDeployment
	for _, g := range groups {
		for _, d := range g.deployments {
			if (len(want) == 0 || want[d.status]) && (from.IsZero() || !d.created.Before(from)) && (to.IsZero() || !d.created.After(to)) {
				all = append(all, d)
			}
		}
	}
	// Newest first.
	for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
		all[i], all[j] = all[j], all[i]
	}
	lo := 0
	if in.NextToken != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(in.NextToken, "sim-"))
		if err != nil || !strings.HasPrefix(in.NextToken, "sim-") || v < 0 || v > len(all) {
			return nil, cdErr("InvalidNextTokenException", "The next token was specified in an invalid format.")
		}
		lo = v
	}
	hi := min(lo+cdPage, len(all))
	out := struct {
		Deployments []string `json:"deployments"`
		NextToken   string   `json:"nextToken,omitempty"`
	}{Deployments: []string{}}
	for _, d := range all[lo:hi] {
		out.Deployments = append(out.Deployments, d.id)
	}
	if hi < len(all) {
		out.NextToken = "sim-" + strconv.Itoa(hi)
	}
	return out, nil
}

func (c *Service) createDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		ApplicationName      string `json:"applicationName"`
		DeploymentGroupName  string `json:"deploymentGroupName"`
		DeploymentConfigName string `json:"deploymentConfigName"`
		Description          string `json:"description"`
		Revision             *struct {
			RevisionType   string `json:"revisionType"`
			AppSpecContent *struct {
				Content string `json:"content"`
			} `json:"appSpecContent"`
		} `json:"revision"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	g, aerr := c.findGroup(in.ApplicationName, in.DeploymentGroupName)
	if aerr != nil {
		return nil, aerr
	}
	if len(in.Description) > 512 {
		return nil, cdErr("DescriptionTooLongException", "The description is too long.")
	}
	name := g.config
	if in.DeploymentConfigName != "" {
		name = in.DeploymentConfigName
	}
	cfg := c.configs[name]
	if cfg == nil {
		return nil, cdErr("DeploymentConfigDoesNotExistException", "The deployment configuration %s does not exist.", name)
	}
	if cfg.platform != g.platform {
		return nil, cdErr("InvalidDeploymentConfigNameException",
			"The deployment configuration %s is for the %s compute platform, not %s.", name, cfg.platform, g.platform)
	}
	if d := g.active(); d != nil {
		return nil, cdErr("DeploymentLimitExceededException",
			"The Deployment Group '%s' already has an active Deployment '%s'", g.name, d.id)
	}
	target := ""
	if in.Revision != nil && in.Revision.AppSpecContent != nil {
		target = appSpecTargetVersion(in.Revision.AppSpecContent.Content)
	}
	d, aerr := c.create(g, createOptions{description: in.Description, config: cfg, target: target})
	if aerr != nil {
		return nil, aerr
	}
	return map[string]string{"deploymentId": d.id}, nil
}

var appSpecTarget = regexp.MustCompile(`(?i)"?TargetVersion"?\s*:\s*"?([0-9]+)`)

// appSpecTargetVersion pulls a Lambda AppSpec's TargetVersion out of its
// JSON or YAML content.
func appSpecTargetVersion(content string) string {
	if m := appSpecTarget.FindStringSubmatch(content); m != nil {
		return m[1]
	}
	return ""
}

func (c *Service) stopDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId        string `json:"deploymentId"`
		AutoRollbackEnabled *bool  `json:"autoRollbackEnabled"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	if d.terminal() {
		return nil, cdErr("DeploymentAlreadyCompletedException", "The deployment %s has already completed.", d.id)
	}
	rollback := d.rollsBackOn(cdOnRequest)
	if in.AutoRollbackEnabled != nil {
		rollback = *in.AutoRollbackEnabled
	}
	c.stop(d, c.now, "MANUAL_STOP", "The deployment was stopped by a StopDeployment request.", rollback, "it was stopped by a user request")
	msg := "Deployment " + d.id + " stopped."
	if d.rollbackID != "" {
		msg += " Rollback deployment " + d.rollbackID + " started."
	}
	return map[string]string{"status": "Succeeded", "statusMessage": msg}, nil
}

func (c *Service) continueDeployment(body []byte) (any, *awsproto.Error) {
	var in struct {
		DeploymentId       string `json:"deploymentId"`
		DeploymentWaitType string `json:"deploymentWaitType"`
	}
	if aerr := cdDecode(body, &in); aerr != nil {
		return nil, aerr
	}
	d, aerr := c.findDeployment(in.DeploymentId)
	if aerr != nil {
		return nil, aerr
	}
	wait := in.DeploymentWaitType
	if wait == "" {
		wait = "READY_WAIT"
	}
	if wait != "READY_WAIT" && wait != "TERMINATION_WAIT" {
		return nil, cdErr("InvalidDeploymentWaitTypeException", "The wait type %s is not valid (READY_WAIT or TERMINATION_WAIT).", wait)
	}
	if d.group.platform != cdECS {
		return nil, cdErr("UnsupportedActionForDeploymentTypeException",
			"ContinueDeployment is not supported for %s deployments.", d.group.platform)
	}
	if d.terminal() {
		return nil, cdErr("DeploymentAlreadyCompletedException", "The deployment %s has already completed.", d.id)
	}
	switch {
	case wait == "READY_WAIT" && d.phase == phReady:
		c.startShift(d, c.now)
	case wait == "TERMINATION_WAIT" && d.phase == phTermWait:
		c.complete(d, c.now)
	case wait == "READY_WAIT":
		return nil, cdErr("DeploymentIsNotInReadyStateException", "The deployment %s is not in the Ready state (it is %s).", d.id, d.status)
	default:
		return nil, cdErr("DeploymentIsNotInReadyStateException",
			"The deployment %s is not waiting for the original task set's termination.", d.id)
	}
	return struct{}{}, nil
}
