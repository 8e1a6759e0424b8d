// Package lambda is the simulated Lambda control plane: functions,
// published versions and aliases with weighted routing over restJson1,
// seeded from a scenario's Lambda functions; and the Lambda traffic model,
// which turns each alias's routing into the AWS/Lambda metrics its
// versions publish.
package lambda

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/perch-dev/perch/sim/awsproto"
)

// The simulated Lambda control plane: functions, published versions and
// aliases with weighted routing, over restJson1 (/2015-03-31/functions/...).
// It serves what a canary operator needs: GetAlias, UpdateAlias (with
// RevisionId compare-and-set), ListAliases, ListVersionsByFunction,
// GetFunctionConfiguration and PublishVersion.

const lambdaPathPrefix = "/2015-03-31/functions"

// lambdaMaxPage is how many items Lambda returns per page whatever MaxItems
// asks for.
const lambdaMaxPage = 50

// lambdaRequest is a parsed restJson1 path.
type lambdaRequest struct {
	op       string
	function string // as given: name, ARN or partial ARN, maybe qualified
	alias    string
}

// parseLambdaPath maps method and path to an operation. Path labels are
// percent-encoded by the SDK (an ARN's colons arrive as %3A).
func parseLambdaPath(r *http.Request) lambdaRequest {
	rest, ok := strings.CutPrefix(r.URL.EscapedPath(), lambdaPathPrefix)
	if !ok {
		return lambdaRequest{}
	}
	rest = strings.Trim(rest, "/")
	if rest == "" {
		if r.Method == http.MethodGet {
			return lambdaRequest{op: "ListFunctions"}
		}
		return lambdaRequest{}
	}
	raw := strings.Split(rest, "/")
	segs := make([]string, len(raw))
	for i, s := range raw {
		u, err := url.PathUnescape(s)
		if err != nil {
			return lambdaRequest{}
		}
		segs[i] = u
	}
	req := lambdaRequest{function: segs[0]}
	m := r.Method
	switch {
	case len(segs) == 1 && m == http.MethodGet:
		req.op = "GetFunction"
	case len(segs) == 2 && segs[1] == "configuration" && m == http.MethodGet:
		req.op = "GetFunctionConfiguration"
	case len(segs) == 2 && segs[1] == "configuration" && m == http.MethodPut:
		req.op = "UpdateFunctionConfiguration"
	case len(segs) == 2 && segs[1] == "aliases" && m == http.MethodGet:
		req.op = "ListAliases"
	case len(segs) == 2 && segs[1] == "aliases" && m == http.MethodPost:
		req.op = "CreateAlias"
	case len(segs) == 3 && segs[1] == "aliases":
		req.alias = segs[2]
		switch m {
		case http.MethodGet:
			req.op = "GetAlias"
		case http.MethodPut:
			req.op = "UpdateAlias"
		case http.MethodDelete:
			req.op = "DeleteAlias"
		}
	case len(segs) == 2 && segs[1] == "versions" && m == http.MethodGet:
		req.op = "ListVersionsByFunction"
	case len(segs) == 2 && segs[1] == "versions" && m == http.MethodPost:
		req.op = "PublishVersion"
	}
	return req
}

func (l *Service) Operation(r *http.Request, _ []byte) string {
	return parseLambdaPath(r).op
}

type lambdaHandler func(l *Service, r *http.Request, req lambdaRequest, body []byte) (int, any, *awsproto.Error)

var lambdaOps = map[string]lambdaHandler{
	"GetAlias":                 (*Service).getAlias,
	"UpdateAlias":              (*Service).updateAlias,
	"CreateAlias":              (*Service).createAlias,
	"ListAliases":              (*Service).listAliases,
	"ListVersionsByFunction":   (*Service).listVersions,
	"ListFunctions":            (*Service).listFunctions,
	"GetFunctionConfiguration": (*Service).getFunctionConfiguration,
	"PublishVersion":           (*Service).publishVersion,
}

func (l *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	req := parseLambdaPath(r)
	h := lambdaOps[req.op]
	if h == nil {
		what := req.op
		if what == "" {
			what = r.Method + " " + r.URL.Path
		}
		writeLambda(w, 0, nil, &awsproto.Error{Status: 404, Code: "UnknownOperationException",
			Message: fmt.Sprintf("the simulator does not serve %s (it has %s)", what, strings.Join(awsproto.SortedKeys(lambdaOps), ", ")), Sender: true})
		return
	}
	status, out, aerr := h(l, r, req, body)
	writeLambda(w, status, out, aerr)
}

// writeLambda answers in Lambda's shape. Errors carry the code in
// X-Amzn-ErrorType, which the SDK reads first to pick the typed error, and
// a body {"Type": "User"|"Service", "message": ...}.
func writeLambda(w http.ResponseWriter, status int, out any, aerr *awsproto.Error) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if aerr != nil {
		h.Set("X-Amzn-Errortype", aerr.Code)
		body := map[string]string{"Type": "Service", "message": aerr.Message}
		if aerr.Sender {
			body["Type"] = "User"
		}
		if aerr.Status == http.StatusTooManyRequests {
			h.Set("Retry-After", "1")
			body["Reason"] = "CallerRateLimitExceeded"
		}
		w.WriteHeader(aerr.Status)
		_ = json.NewEncoder(w).Encode(body)
		return
	}
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(out)
}

func lambdaNotFound(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 404, Code: "ResourceNotFoundException", Message: fmt.Sprintf(format, args...), Sender: true}
}

func lambdaInvalid(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "InvalidParameterValueException", Message: fmt.Sprintf(format, args...), Sender: true}
}

// lambdaValidation is the framework's model-constraint error, which Lambda
// does not model (the SDK returns it as a GenericAPIError).
func lambdaValidation(format string, args ...any) *awsproto.Error {
	return &awsproto.Error{Status: 400, Code: "ValidationException",
		Message: "1 validation error detected: " + fmt.Sprintf(format, args...), Sender: true}
}

var (
	functionIDPattern = regexp.MustCompile(`^(?:arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):function:|(\d{12}):function:)?([a-zA-Z0-9_-]{1,64})(?::(\$LATEST|[a-zA-Z0-9_-]{1,128}))?$`)
	versionPattern    = regexp.MustCompile(`^(\$LATEST|[0-9]{1,10})$`)
	aliasNamePattern  = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)
	routingKeyPattern = regexp.MustCompile(`^[0-9]{1,10}$`)
)

// lambdaPage applies Marker/MaxItems; at most lambdaMaxPage items are
// returned per page whatever MaxItems says, as Lambda does.
func lambdaPage(q url.Values, n int) (lo, hi int, next string, aerr *awsproto.Error) {
	size := lambdaMaxPage
	if s := q.Get("MaxItems"); s != "" {
		v, err := strconv.Atoi(s)
		if err != nil || v < 1 || v > 10000 {
			return 0, 0, "", lambdaValidation("Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 10000", s)
		}
		size = min(v, lambdaMaxPage)
	}
	if m := q.Get("Marker"); m != "" {
		v, err := strconv.Atoi(strings.TrimPrefix(m, "sim-"))
		if err != nil || !strings.HasPrefix(m, "sim-") || v < 0 || v > n {
			return 0, 0, "", lambdaInvalid("Invalid marker: %s", m)
		}
		lo = v
	}
	hi = min(lo+size, n)
	if hi < n {
		next = "sim-" + strconv.Itoa(hi)
	}
	return lo, hi, next, nil
}

// decodeLambdaBody reads an optional JSON request body, answering a
// malformed one the way Lambda does.
func decodeLambdaBody(body []byte, into any) *awsproto.Error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, into); err != nil {
		return &awsproto.Error{Status: 400, Code: "InvalidRequestContentException",
			Message: "Could not parse request body into json: " + err.Error(), Sender: true}
	}
	return nil
}
