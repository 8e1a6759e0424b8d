// Package ecs is the simulated Amazon ECS: clusters, services, service
// revisions and service deployments over awsJson1.1. Deployments of a
// service whose strategy is CANARY, LINEAR or BLUE_GREEN progress on the
// simulation clock through ECS's lifecycle stages, move the production
// listener rule's weights on the simulated ALB, wait at PAUSE hooks for
// ContinueServiceDeployment, and roll back when one of their alarms fires
// or on StopServiceDeployment; what it needs of ELBv2 and CloudWatch it
// declares in deps.go.
package ecs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/perch-dev/perch/sim/awsproto"
)

// ECS over awsJson1.1: POST / with X-Amz-Target
// AmazonEC2ContainerServiceV20141113.<Op>, lowerCamel JSON, timestamps as
// epoch seconds. Errors carry the code in X-Amzn-ErrorType and __type.

const targetPrefix = "AmazonEC2ContainerServiceV20141113."

// maxDescribe is the DescribeServices / DescribeServiceDeployments /
// DescribeServiceRevisions limit.
const maxDescribe = 20

type handler = func(e *Service, body []byte) (any, *awsproto.Error)

var ops = map[string]handler{
	"CreateCluster":              (*Service).createCluster,
	"ListClusters":               (*Service).listClusters,
	"CreateService":              (*Service).createService,
	"UpdateService":              (*Service).updateService,
	"DescribeServices":           (*Service).describeServices,
	"ListServices":               (*Service).listServices,
	"ListServiceDeployments":     (*Service).listServiceDeployments,
	"DescribeServiceDeployments": (*Service).describeServiceDeployments,
	"DescribeServiceRevisions":   (*Service).describeServiceRevisions,
	"StopServiceDeployment":      (*Service).stopServiceDeployment,
	"ContinueServiceDeployment":  (*Service).continueServiceDeployment,
}

// Endpoint routes awsJson1.1 requests by X-Amz-Target.
func (e *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "ecs", SigningName: "ecs", TargetPrefixes: []string{targetPrefix}}
}

func (e *Service) Operation(r *http.Request, _ []byte) string {
	return awsproto.JSONOperation(r, targetPrefix)
}

func (e *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	awsproto.ServeJSON(w, e, "ECS", e.Operation(r, body), body, ops)
}

func errf(code, format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

func invalid(format string, args ...any) *awsproto.Error {
	return errf("InvalidParameterException", format, args...)
}

func decode(body []byte, v any) *awsproto.Error {
	if err := json.Unmarshal(body, v); err != nil {
		return errf("SerializationException", "could not parse the request body: %v", err)
	}
	return nil
}

// lastSegment is what follows the last "/" of an ARN, or the name itself.
func lastSegment(s string) string {
	if i := strings.LastIndexByte(s, '/'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// findCluster takes a cluster name or ARN; "" is the default cluster.
func (e *Service) findCluster(ref string) (*cluster, *awsproto.Error) {
	if ref == "" {
		ref = "default"
	}
	name := ref
	if strings.HasPrefix(ref, "arn:") {
		if !strings.Contains(ref, ":cluster/") {
			return nil, invalid("%s is not a cluster ARN", ref)
		}
		name = lastSegment(ref)
	}
	c := e.clusters[name]
	if c == nil {
		return nil, errf("ClusterNotFoundException", "Cluster not found.")
	}
	return c, nil
}

// findService takes a service name or ARN in c.
func (e *Service) findService(c *cluster, ref string) (*service, *awsproto.Error) {
	if ref == "" {
		return nil, invalid("service can not be blank.")
	}
	s := c.services[lastSegment(ref)]
	if s == nil || (strings.HasPrefix(ref, "arn:") && s.arn != ref) {
		return nil, errf("ServiceNotFoundException", "Service not found.")
	}
	return s, nil
}

func (e *Service) findDeployment(arn string) (*deployment, *awsproto.Error) {
	if arn == "" {
		return nil, invalid("serviceDeploymentArn can not be blank.")
	}
	if !strings.HasPrefix(arn, "arn:aws:ecs:") || !strings.Contains(arn, ":service-deployment/") {
		return nil, invalid("Invalid service deployment ARN: %s", arn)
	}
	d := e.byARN[arn]
	if d == nil {
		return nil, errf("ServiceDeploymentNotFoundException", "The service deployment %s does not exist.", arn)
	}
	return d, nil
}
