package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/perch-dev/perch/sim/awsproto"
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

type cdHandler func(c *codeDeploy, body []byte) (any, *awsproto.Error)

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

func (c *codeDeploy) Operation(r *http.Request, _ []byte) string {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), cdTargetPrefix)
	if !ok {
		return ""
	}
	return op
}

func (c *codeDeploy) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	op := c.Operation(r, body)
	h := cdOps[op]
	if h == nil {
		writeCD(w, nil, &awsproto.Error{Status: 400, Code: "UnknownOperationException",
			Message: fmt.Sprintf("the simulator does not serve CodeDeploy operation %q (it has %s)", op, strings.Join(awsproto.SortedKeys(cdOps), ", ")), Sender: true})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, aerr := h(c, body)
	writeCD(w, out, aerr)
}

func writeCD(w http.ResponseWriter, out any, aerr *awsproto.Error) {
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

func cdErr(code, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

func cdDecode(body []byte, v any) *awsproto.Error {
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

func (c *codeDeploy) findDeployment(id string) (*cdDeployment, *awsproto.Error) {
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

func (c *codeDeploy) findGroup(app, group string) (*cdGroup, *awsproto.Error) {
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

// Endpoint routes awsJson1.1 requests by X-Amz-Target.
func (c *codeDeploy) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "codedeploy", SigningName: "codedeploy", TargetPrefixes: []string{cdTargetPrefix}}
}

// nonNilStrings makes a nil list encode as [] rather than null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
