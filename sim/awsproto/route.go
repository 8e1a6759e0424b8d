package awsproto

import (
	"net/http"
	"net/url"
	"strings"
)

// Service is one simulated AWS service behind the router.
type Service interface {
	// Endpoint says how requests find the service.
	Endpoint() Endpoint
	// Operation names the operation for the stats, "" if unknown.
	Operation(r *http.Request, body []byte) string
	// Serve answers the request; the X-Amzn-Requestid header is already
	// set on w and is the request ID to put in bodies.
	Serve(w http.ResponseWriter, r *http.Request, body []byte)
}

// Endpoint is how requests find a service, the way AWS's endpoints are
// split: by the SigV4 credential scope's service name, or, for unsigned
// requests (aws.AnonymousCredentials, hand-made curl), by the markers of
// the service's protocol.
type Endpoint struct {
	// Name is the short name the stats and faults use ("elbv2").
	Name string
	// SigningName is the SigV4 scope's service ("elasticloadbalancing").
	SigningName string
	// TargetPrefixes are X-Amz-Target prefixes (awsJson, CloudWatch's
	// JSON), e.g. "CodeDeploy_20141006.".
	TargetPrefixes []string
	// PathPrefixes are URL path prefixes (restJson1, RPCv2 CBOR).
	PathPrefixes []string
	// QueryVersions are awsQuery Version parameters, e.g. "2015-12-01".
	QueryVersions []string
}

// Router finds the service a request is for.
type Router struct {
	endpoints []Endpoint
}

// NewRouter routes to the endpoints. Their markers must not overlap.
func NewRouter(endpoints []Endpoint) *Router {
	return &Router{endpoints: endpoints}
}

// Route returns the signing name of the service the request is for: the
// SigV4 scope's, else the first marker that matches, X-Amz-Target
// prefixes before path prefixes before the awsQuery Version; "" if none.
func (rt *Router) Route(r *http.Request, body []byte) string {
	if svc := ScopeService(r.Header.Get("Authorization")); svc != "" {
		return svc
	}
	if cred := r.URL.Query().Get("X-Amz-Credential"); cred != "" {
		if parts := strings.Split(cred, "/"); len(parts) == 5 {
			return parts[3]
		}
	}
	target := r.Header.Get("X-Amz-Target")
	for _, e := range rt.endpoints {
		for _, p := range e.TargetPrefixes {
			if strings.HasPrefix(target, p) {
				return e.SigningName
			}
		}
	}
	for _, e := range rt.endpoints {
		for _, p := range e.PathPrefixes {
			if strings.HasPrefix(r.URL.Path, p) {
				return e.SigningName
			}
		}
	}
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("Version") == "" {
		form = r.URL.Query()
	}
	version := form.Get("Version")
	for _, e := range rt.endpoints {
		for _, v := range e.QueryVersions {
			if version == v {
				return e.SigningName
			}
		}
	}
	return ""
}

// ShortName is the stats name of the service with this signing name, or
// the signing name itself for a service nobody serves.
func (rt *Router) ShortName(signingName string) string {
	for _, e := range rt.endpoints {
		if e.SigningName == signingName {
			return e.Name
		}
	}
	return signingName
}

// ScopeRegion pulls the region out of the same credential scope; "" when
// the request is not signed that way.
func ScopeRegion(auth string) string {
	parts := scopeParts(auth)
	if parts == nil {
		return ""
	}
	return parts[2]
}

// ScopeService pulls the service out of
// "AWS4-HMAC-SHA256 Credential=AKID/20261126/us-east-1/sts/aws4_request, ...".
func ScopeService(auth string) string {
	parts := scopeParts(auth)
	if parts == nil {
		return ""
	}
	return parts[3]
}

func scopeParts(auth string) []string {
	i := strings.Index(auth, "Credential=")
	if i < 0 {
		return nil
	}
	cred := auth[i+len("Credential="):]
	if j := strings.IndexAny(cred, ", "); j >= 0 {
		cred = cred[:j]
	}
	parts := strings.Split(cred, "/")
	if len(parts) != 5 || parts[4] != "aws4_request" {
		return nil
	}
	return parts
}
