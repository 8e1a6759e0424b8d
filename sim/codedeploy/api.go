// Package codedeploy is the simulated CodeDeploy: applications,
// deployment groups, configurations and deployments over awsJson1.1.
// Deployments progress on the simulation clock by their configuration and
// move traffic on the services the account already has (an ALB rule's
// weights for ECS blue/green, a Lambda alias's routing), and stop and roll
// back when a watched alarm fires; what it needs of those services it
// declares in deps.go.
package codedeploy

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
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

type cdHandler = func(c *Service, body []byte) (any, *awsproto.Error)

var cdOps = map[string]cdHandler{
	"GetDeployment":             (*Service).getDeployment,
	"BatchGetDeployments":       (*Service).batchGetDeployments,
	"ListDeployments":           (*Service).listDeployments,
	"GetDeploymentGroup":        (*Service).getDeploymentGroup,
	"GetDeploymentConfig":       (*Service).getDeploymentConfig,
	"ListDeploymentTargets":     (*Service).listDeploymentTargets,
	"BatchGetDeploymentTargets": (*Service).batchGetDeploymentTargets,
	"GetDeploymentTarget":       (*Service).getDeploymentTarget,
	"StopDeployment":            (*Service).stopDeployment,
	"ContinueDeployment":        (*Service).continueDeployment,
	"CreateDeployment":          (*Service).createDeployment,
	"ListApplications":          (*Service).listApplications,
	"ListDeploymentGroups":      (*Service).listDeploymentGroups,
}

func (c *Service) Operation(r *http.Request, _ []byte) string {
	return awsproto.JSONOperation(r, cdTargetPrefix)
}

func (c *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	awsproto.ServeJSON(w, c, "CodeDeploy", c.Operation(r, body), body, cdOps)
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

func (c *Service) findDeployment(id string) (*cdDeployment, *awsproto.Error) {
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

func (c *Service) findGroup(app, group string) (*cdGroup, *awsproto.Error) {
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

// Endpoint routes awsJson1.1 requests by X-Amz-Target.
func (c *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "codedeploy", SigningName: "codedeploy", TargetPrefixes: []string{cdTargetPrefix}}
}

// nonNilStrings makes a nil list encode as [] rather than null.
func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
