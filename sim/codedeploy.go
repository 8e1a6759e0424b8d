package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// CodeDeploy over awsJson1.1: POST / with X-Amz-Target
// CodeDeploy_20141006.<Op>, lowerCamel JSON (except deploymentOverview's
// capitalised counters), timestamps as epoch seconds. Errors carry the
// code in X-Amzn-ErrorType and __type, as the SDK reads them.

const cdTargetPrefix = "CodeDeploy_20141006."

// cdMaxBatch is the BatchGet* limit.
const cdMaxBatch = 25

// cdPage is how many deployments ListDeployments returns per page.
const cdPage = 50

var deploymentIDPattern = regexp.MustCompile(`^d-[A-Z0-9]{9}$`)

type cdHandler func(c *codeDeploy, body []byte) (any, *apiError)

var cdOps = map[string]cdHandler{
	"GetDeployment":             (*codeDeploy).getDeployment,
	"BatchGetDeployments":       (*codeDeploy).batchGetDeployments,
	"ListDeployments":           (*codeDeploy).listDeployments,
	"GetDeploymentGroup":        (*codeDeploy).getDeploymentGroup,
	"GetDeploymentConfig":       (*codeDeploy).getDeploymentConfig,
	"ListDeploymentTargets":     (*codeDeploy).listDeploymentTargets,
	"BatchGetDeploymentTargets": (*codeDeploy).batchGetDeploymentTargets,
	"GetDeploymentTarget":       (*codeDeploy).getDeploymentTarget,
	"StopDeployment":            (*codeDeploy).stopDeployment,
	"ContinueDeployment":        (*codeDeploy).continueDeployment,
	"CreateDeployment":          (*codeDeploy).createDeployment,
	"ListApplications":          (*codeDeploy).listApplications,
	"ListDeploymentGroups":      (*codeDeploy).listDeploymentGroups,
}

func (c *codeDeploy) operation(r *http.Request, _ []byte) string {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cdTargetPrefix)
	if !ok {
		return ""
	}
	return op
}

func (c *codeDeploy) serve(w http.ResponseWriter, r *http.Request, body []byte) {
	op := c.operation(r, body)
	h := cdOps[op]
	if h == nil {
		writeCD(w, nil, &apiError{Status: 400, Code: "UnknownOperationException",
			Message: fmt.Sprintf("the simulator does not serve CodeDeploy operation %q (it has %s)", op, strings.Join(sortedKeys(cdOps), ", ")), Sender: true})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, aerr := h(c, body)
	writeCD(w, out, aerr)
}

func writeCD(w http.ResponseWriter, out any, aerr *apiError) {
	h := w.Header()
	h.Set("Content-Type", "application/x-amz-json-1.1")
	if aerr != nil {
		h.Set("X-Amzn-Errortype", aerr.Code)
		w.WriteHeader(aerr.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": aerr.Code, "message": aerr.Message})
		return
	}
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(out)
}

func cdErr(code, format string, args ...any) *apiError {
	return &apiError{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

func cdDecode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return cdErr("SerializationException", "could not parse the request body: %v", err)
	}
	return nil
}

// cdEpoch renders a time the awsJson way; nil for the zero time.
func cdEpoch(t time.Time) *float64 {
	if t.IsZero() {
		return nil
	}
	v := float64(t.UnixMilli()) / 1000
	return &v
}

func (c *codeDeploy) findDeployment(id string) (*cdDeployment, *apiError) {
	switch {
	case id == "":
		return nil, cdErr("DeploymentIdRequiredException", "At least one deployment ID must be specified.")
	case !deploymentIDPattern.MatchString(id):
		return nil, cdErr("InvalidDeploymentIdException", "Specified DeploymentId is not in the valid format: %s", id)
	}
	d := c.byID[id]
	if d == nil {
		return nil, cdErr("DeploymentDoesNotExistException", "The deployment %s could not be found.", id)
	}
	return d, nil
}

func (c *codeDeploy) findGroup(app, group string) (*cdGroup, *apiError) {
	switch {
	case app == "":
		return nil, cdErr("ApplicationNameRequiredException", "The minimum number of required application names was not specified.")
	case group == "":
		return nil, cdErr("DeploymentGroupNameRequiredException", "The deployment group name was not specified.")
	}
	a := c.apps[app]
	if a == nil {
		return nil, cdErr("ApplicationDoesNotExistException", "No application found for name: %s", app)
	}
	g := a.groups[group]
	if g == nil {
		return nil, cdErr("DeploymentGroupDoesNotExistException", "No Deployment Group found for name: %s", group)
	}
	return g, nil
}

// ---- shapes ----

type cdOverviewJSON struct {
	Pending    int64 `json:"Pending"`
	InProgress int64 `json:"InProgress"`
	Succeeded  int64 `json:"Succeeded"`
	Failed     int64 `json:"Failed"`
	Skipped    int64 `json:"Skipped"`
	Ready      int64 `json:"Ready"`
}

type cdErrorJSON struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type cdRollbackJSON struct {
	RollbackDeploymentId           string `json:"rollbackDeploymentId,omitempty"`
	RollbackTriggeringDeploymentId string `json:"rollbackTriggeringDeploymentId,omitempty"`
	RollbackMessage                string `json:"rollbackMessage,omitempty"`
}

type cdAutoRollbackJSON struct {
	Enabled bool     `json:"enabled"`
	Events  []string `json:"events"`
}

type cdStyleJSON struct {
	DeploymentType   string `json:"deploymentType"`
	DeploymentOption string `json:"deploymentOption"`
}

type cdBlueGreenJSON struct {
	TerminateBlueInstancesOnDeploymentSuccess *struct {
		Action                       string `json:"action"`
		TerminationWaitTimeInMinutes int    `json:"terminationWaitTimeInMinutes"`
	} `json:"terminateBlueInstancesOnDeploymentSuccess,omitempty"`
	DeploymentReadyOption *struct {
		ActionOnTimeout   string `json:"actionOnTimeout"`
		WaitTimeInMinutes int    `json:"waitTimeInMinutes"`
	} `json:"deploymentReadyOption,omitempty"`
}

type cdName struct {
	Name string `json:"name"`
}

type cdLBInfoJSON struct {
	TargetGroupPairInfoList []struct {
		TargetGroups     []cdName `json:"targetGroups"`
		ProdTrafficRoute struct {
			ListenerArns []string `json:"listenerArns"`
		} `json:"prodTrafficRoute"`
	} `json:"targetGroupPairInfoList"`
}

type cdDeploymentJSON struct {
	ApplicationName                    string             `json:"applicationName"`
	DeploymentGroupName                string             `json:"deploymentGroupName"`
	DeploymentConfigName               string             `json:"deploymentConfigName"`
	DeploymentId                       string             `json:"deploymentId"`
	Status                             string             `json:"status"`
	ErrorInformation                   *cdErrorJSON       `json:"errorInformation,omitempty"`
	CreateTime                         *float64           `json:"createTime,omitempty"`
	StartTime                          *float64           `json:"startTime,omitempty"`
	CompleteTime                       *float64           `json:"completeTime,omitempty"`
	DeploymentOverview                 cdOverviewJSON     `json:"deploymentOverview"`
	Description                        string             `json:"description,omitempty"`
	Creator                            string             `json:"creator"`
	IgnoreApplicationStopFailures      bool               `json:"ignoreApplicationStopFailures"`
	AutoRollbackConfiguration          cdAutoRollbackJSON `json:"autoRollbackConfiguration"`
	UpdateOutdatedInstancesOnly        bool               `json:"updateOutdatedInstancesOnly"`
	RollbackInfo                       *cdRollbackJSON    `json:"rollbackInfo,omitempty"`
	DeploymentStyle                    cdStyleJSON        `json:"deploymentStyle"`
	BlueGreenDeploymentConfiguration   *cdBlueGreenJSON   `json:"blueGreenDeploymentConfiguration,omitempty"`
	LoadBalancerInfo                   *cdLBInfoJSON      `json:"loadBalancerInfo,omitempty"`
	InstanceTerminationWaitTimeStarted bool               `json:"instanceTerminationWaitTimeStarted"`
	ComputePlatform                    string             `json:"computePlatform"`
	DeploymentStatusMessages           []string           `json:"deploymentStatusMessages"`
}

func (g *cdGroup) style() cdStyleJSON {
	if g.platform == cdServer {
		return cdStyleJSON{DeploymentType: "IN_PLACE", DeploymentOption: "WITHOUT_TRAFFIC_CONTROL"}
	}
	return cdStyleJSON{DeploymentType: "BLUE_GREEN", DeploymentOption: "WITH_TRAFFIC_CONTROL"}
}

func (g *cdGroup) blueGreen() *cdBlueGreenJSON {
	if g.platform != cdECS {
		return nil
	}
	bg := &cdBlueGreenJSON{}
	bg.TerminateBlueInstancesOnDeploymentSuccess = &struct {
		Action                       string `json:"action"`
		TerminationWaitTimeInMinutes int    `json:"terminationWaitTimeInMinutes"`
	}{"TERMINATE", int(g.terminationWait / time.Minute)}
	action := "CONTINUE_DEPLOYMENT"
	if g.readyWait > 0 {
		action = "STOP_DEPLOYMENT"
	}
	bg.DeploymentReadyOption = &struct {
		ActionOnTimeout   string `json:"actionOnTimeout"`
		WaitTimeInMinutes int    `json:"waitTimeInMinutes"`
	}{action, int(g.readyWait / time.Minute)}
	return bg
}

func (g *cdGroup) lbInfo() *cdLBInfoJSON {
	if g.platform != cdECS {
		return nil
	}
	info := &cdLBInfoJSON{}
	info.TargetGroupPairInfoList = make([]struct {
		TargetGroups     []cdName `json:"targetGroups"`
		ProdTrafficRoute struct {
			ListenerArns []string `json:"listenerArns"`
		} `json:"prodTrafficRoute"`
	}, 1)
	info.TargetGroupPairInfoList[0].TargetGroups = []cdName{{g.tgs[0].name}, {g.tgs[1].name}}
	info.TargetGroupPairInfoList[0].ProdTrafficRoute.ListenerArns = []string{g.listenerARN}
	return info
}

func (d *cdDeployment) info() cdDeploymentJSON {
	g := d.group
	cfg := ""
	if d.config != nil {
		cfg = d.config.name
	}
	out := cdDeploymentJSON{
		ApplicationName: g.app.name, DeploymentGroupName: g.name, DeploymentConfigName: cfg,
		DeploymentId: d.id, Status: d.status, CreateTime: cdEpoch(d.created), StartTime: cdEpoch(d.started),
		CompleteTime: cdEpoch(d.completed), Description: d.description, Creator: d.creator,
		AutoRollbackConfiguration: cdAutoRollbackJSON{Enabled: d.autoRollback, Events: nonNilStrings(d.rollbackEvents)},
		DeploymentStyle:           g.style(), BlueGreenDeploymentConfiguration: g.blueGreen(), LoadBalancerInfo: g.lbInfo(),
		InstanceTerminationWaitTimeStarted: d.termWaitStarted, ComputePlatform: g.platform,
		DeploymentStatusMessages: []string{},
	}
	if d.errCode != "" {
		out.ErrorInformation = &cdErrorJSON{Code: d.errCode, Message: d.errMessage}
	}
	if d.rollbackID != "" || d.rollbackOf != "" {
		out.RollbackInfo = &cdRollbackJSON{RollbackDeploymentId: d.rollbackID, RollbackTriggeringDeploymentId: d.rollbackOf, RollbackMessage: d.rollbackMsg}
	}
	n := int64(1)
	if g.platform == cdServer {
		n = int64(len(g.instances))
	}
	switch d.status {
	case cdInProgress:
		out.DeploymentOverview.InProgress = n
	case cdReady:
		out.DeploymentOverview.Ready = n
	case cdSucceeded:
		out.DeploymentOverview.Succeeded = n
	case cdFailed, cdStopped:
		out.DeploymentOverview.Failed = n
	default:
		out.DeploymentOverview.Pending = n
	}
	return out
}

// ---- deployments ----

func (c *codeDeploy) getDeployment(body []byte) (any, *apiError) {
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

func (c *codeDeploy) batchGetDeployments(body []byte) (any, *apiError) {
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

func (c *codeDeploy) listDeployments(body []byte) (any, *apiError) {
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
		for _, an := range sortedKeys(c.apps) {
			for _, gn := range sortedKeys(c.apps[an].groups) {
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

func (c *codeDeploy) createDeployment(body []byte) (any, *apiError) {
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

func (c *codeDeploy) stopDeployment(body []byte) (any, *apiError) {
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

func (c *codeDeploy) continueDeployment(body []byte) (any, *apiError) {
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

// ---- groups, configurations and applications ----

func (c *codeDeploy) getDeploymentGroup(body []byte) (any, *apiError) {
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
		"serviceRoleArn":               fmt.Sprintf("arn:aws:iam::%s:role/CodeDeployServiceRole", c.sim.account),
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

func (c *codeDeploy) getDeploymentConfig(body []byte) (any, *apiError) {
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

func (c *codeDeploy) listApplications(body []byte) (any, *apiError) {
	return map[string]any{"applications": nonNilStrings(sortedKeys(c.apps))}, nil
}

func (c *codeDeploy) listDeploymentGroups(body []byte) (any, *apiError) {
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
	return map[string]any{"applicationName": a.name, "deploymentGroups": nonNilStrings(sortedKeys(a.groups))}, nil
}

// ---- deployment targets ----

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

func (c *codeDeploy) target(d *cdDeployment, id string) (map[string]any, bool) {
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
		base["targetArn"] = fmt.Sprintf("arn:aws:ecs:%s:%s:service/%s/%s", c.sim.region, c.sim.account, g.cluster, g.service)
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
		base["targetArn"] = c.sim.lambda.functionARN(g.function) + ":" + g.alias
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
			base["targetArn"] = fmt.Sprintf("arn:aws:ec2:%s:%s:instance/%s", c.sim.region, c.sim.account, inst)
			base["instanceLabel"] = "Blue"
			return map[string]any{"deploymentTargetType": "InstanceTarget", "instanceTarget": base}, true
		}
	}
	return nil, false
}

func (c *codeDeploy) listDeploymentTargets(body []byte) (any, *apiError) {
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

func (c *codeDeploy) batchGetDeploymentTargets(body []byte) (any, *apiError) {
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

func (c *codeDeploy) getDeploymentTarget(body []byte) (any, *apiError) {
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
