// Package cloudwatch is the simulated CloudWatch: metrics and metric
// alarms over its three wire protocols (RPCv2 CBOR, awsJson1.0, awsQuery),
// metric math, statistics and lazy alarm evaluation, on the metric store
// the traffic models publish to.
package cloudwatch

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/cloudwatch/wire"
	"github.com/perch-dev/perch/sim/metrics"
)

// Service simulates the CloudWatch API (metrics and metric alarms) over
// the three protocols AWS clients use: Smithy RPCv2 CBOR (aws-sdk-go-v2),
// awsJson1.0 (current botocore) and awsQuery (older CLIs).
//
// Operations: GetMetricData, ListMetrics, PutMetricData, DescribeAlarms,
// PutMetricAlarm, SetAlarmState, DeleteAlarms. Where the simulator knowingly
// differs from AWS:
//   - GetMetricData periods are aligned to the epoch, and the first period
//     is the one holding StartTime (AWS rounds StartTime down similarly).
//   - Statistics: Sum, SampleCount, Average, Minimum, Maximum, pNN(.N)
//     (nearest rank over the published Values/Counts). Other extended
//     statistics (tm, wm, PR, TC, ...) are rejected as invalid parameters.
//   - Metric math: + - * /, unary minus, constants, FILL(x, constant),
//     SUM/AVG/MIN/MAX/ABS; other functions and Metrics Insights are rejected
//     by name.
//   - PutMetricData accepts the AWS/ namespaces, so demos can inject data
//     that looks like an ALB's.
//   - Alarms are evaluated lazily, at the latest evaluation tick (each
//     minute, or each period below a minute) when a request looks at them;
//     ticks nobody looked at are not replayed. Anomaly-band operators,
//     ThresholdMetricId and composite alarms are not simulated, and actions
//     are stored but never run.
type Service struct {
	// mu guards alarms and the request counter. The server already
	// serialises requests, but scenarios call putAlarm and friends directly.
	mu sync.Mutex

	clk     clock.Clock
	store   *metrics.Store
	region  string
	account string

	alarms map[string]*cwAlarm
	// alarmLimit is the number of metric alarms the account may hold before
	// PutMetricAlarm fails with LimitExceededFault; tests lower it.
	alarmLimit int
	requests   uint64
}

// cwHandler runs one operation on the decoded input. A nil wire.Obj means the
// operation has no output members.
type cwHandler func(c *Service, in cwFields) (wire.Obj, error)

var cwHandlers = map[string]cwHandler{
	"GetMetricData":  (*Service).getMetricData,
	"ListMetrics":    (*Service).listMetrics,
	"PutMetricData":  (*Service).putMetricData,
	"DescribeAlarms": (*Service).describeAlarms,
	"PutMetricAlarm": (*Service).putMetricAlarmOp,
	"SetAlarmState":  (*Service).setAlarmStateOp,
	"DeleteAlarms":   (*Service).deleteAlarms,
}

// New returns a simulator reading metrics from store and time from
// clk (the simulation's virtual clock, which alarm evaluation follows).
func New(clk clock.Clock, store *metrics.Store) *Service {
	return &Service{
		clk:        clk,
		store:      store,
		region:     "us-east-1",
		account:    "123456789012",
		alarms:     map[string]*cwAlarm{},
		alarmLimit: 5000,
	}
}

// Operation names the Operation for statistics without decoding the body
// beyond what routing needs; "" when the Operation is not one we serve.
func (c *Service) Operation(r *http.Request, body []byte) string {
	var op string
	switch wire.DetectProtocol(r.URL.Path, r.Header.Get) {
	case wire.CBOR:
		op = strings.TrimPrefix(r.URL.Path, wire.CBORPrefix)
	case wire.JSON:
		op = strings.TrimPrefix(r.Header.Get("X-Amz-Target"), wire.ServiceName+".")
	default:
		plain, err := cwPlainBody(r, body)
		if err != nil {
			return ""
		}
		form, err := cwQueryForm(r, plain)
		if err != nil {
			return ""
		}
		op = form.Get("Action")
	}
	if _, ok := cwHandlers[op]; !ok {
		return ""
	}
	return op
}

// cwQueryForm merges the URL query and the form body, as AWS accepts both.
func cwQueryForm(r *http.Request, body []byte) (url.Values, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return nil, fmt.Errorf("parse form body: %w", err)
	}
	for k, v := range r.URL.Query() {
		if _, ok := form[k]; !ok {
			form[k] = v
		}
	}
	return form, nil
}

// Serve answers one request in the protocol it arrived in.
func (c *Service) Serve(w http.ResponseWriter, r *http.Request, body []byte) {
	proto := wire.DetectProtocol(r.URL.Path, r.Header.Get)
	reqID := w.Header().Get("X-Amzn-Requestid")
	if reqID == "" {
		reqID = c.nextRequestID()
		w.Header().Set("X-Amzn-Requestid", reqID)
	}

	op, in, err := cwDecodeRequest(proto, r, body)
	if err != nil {
		writeCWError(w, proto, err, reqID)
		return
	}
	h, ok := cwHandlers[op]
	if !ok {
		writeCWError(w, proto, cwErrUnknownOp(op), reqID)
		return
	}
	out, err := h(c, newCWFields(in))
	if err != nil {
		writeCWError(w, proto, err, reqID)
		return
	}
	writeCWResult(w, proto, op, out, reqID)
}

// cwMaxPlainBody bounds a decompressed body, so a small gzip bomb cannot
// exhaust memory.
const cwMaxPlainBody = 16 << 20

// cwPlainBody undoes Content-Encoding: the SDK gzips PutMetricData bodies
// (request compression) in every protocol.
func cwPlainBody(r *http.Request, body []byte) ([]byte, error) {
	enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding")))
	if enc == "" || enc == "identity" {
		return body, nil
	}
	if enc != "gzip" {
		return nil, fmt.Errorf("unsupported Content-Encoding %q", enc)
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w", err)
	}
	plain, err := io.ReadAll(io.LimitReader(zr, cwMaxPlainBody+1))
	if err != nil {
		return nil, fmt.Errorf("gunzip body: %w", err)
	}
	if len(plain) > cwMaxPlainBody {
		return nil, fmt.Errorf("decompressed body larger than %d bytes", cwMaxPlainBody)
	}
	return plain, nil
}

func cwDecodeRequest(proto wire.Protocol, r *http.Request, body []byte) (string, map[string]any, error) {
	body, err := cwPlainBody(r, body)
	if err != nil {
		return "", nil, cwErrSerialization(err)
	}
	switch proto {
	case wire.CBOR:
		op := strings.TrimPrefix(r.URL.Path, wire.CBORPrefix)
		in, err := wire.DecodeCBOR(body)
		if err != nil {
			return op, nil, cwErrSerialization(err)
		}
		return op, in, nil
	case wire.JSON:
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), wire.ServiceName+".")
		in, err := wire.DecodeJSON(body)
		if err != nil {
			return op, nil, cwErrSerialization(err)
		}
		return op, in, nil
	default:
		form, err := cwQueryForm(r, body)
		if err != nil {
			return "", nil, cwErrSerialization(err)
		}
		if v := form.Get("Version"); v != "" && v != wire.APIVersion {
			return "", nil, cwErrInvalidParam("Unsupported API version %q.", v)
		}
		in, op, err := wire.DecodeQuery(form)
		if err != nil {
			return op, nil, cwErrSerialization(err)
		}
		return op, in, nil
	}
}

func (c *Service) nextRequestID() string {
	c.mu.Lock()
	c.requests++
	n := c.requests
	c.mu.Unlock()
	return fmt.Sprintf("c0ffee00-0000-4000-8000-%012x", n)
}

func writeCWResult(w http.ResponseWriter, proto wire.Protocol, op string, out wire.Obj, reqID string) {
	h := w.Header()
	var body []byte
	switch proto {
	case wire.CBOR:
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		if out == nil {
			out = wire.Obj{}
		}
		body = wire.EncodeCBOR(out)
	case wire.JSON:
		h.Set("Content-Type", "application/x-amz-json-1.0")
		if out == nil {
			out = wire.Obj{}
		}
		body = wire.EncodeJSON(out)
	default:
		h.Set("Content-Type", "text/xml")
		body = wire.EncodeXML(op, out, reqID)
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}

// cwError is a modelled CloudWatch error: shape is the Smithy shape name
// (what CBOR/JSON carry in __type), code the awsQuery code (what the query
// protocol and the X-Amzn-Query-Error header carry).
type cwError struct {
	shape  string
	code   string
	status int
	fault  string // "Sender" or "Receiver"
	msg    string
}

func (e *cwError) Error() string { return e.code + ": " + e.msg }

func newCWErr(shape, code string, status int, format string, args ...any) *cwError {
	return &cwError{shape: shape, code: code, status: status, fault: "Sender", msg: fmt.Sprintf(format, args...)}
}

func cwErrInvalidParam(format string, args ...any) error {
	return newCWErr("InvalidParameterValueException", "InvalidParameterValue", 400, format, args...)
}

func cwErrMissing(name string) error {
	return newCWErr("MissingRequiredParameterException", "MissingParameter", 400,
		"The parameter %s is required.", name)
}

func cwErrCombination(format string, args ...any) error {
	return newCWErr("InvalidParameterCombinationException", "InvalidParameterCombination", 400, format, args...)
}

func cwErrValidation(format string, args ...any) error {
	return newCWErr("ValidationException", "ValidationError", 400, format, args...)
}

func cwErrNotFound(format string, args ...any) error {
	return newCWErr("ResourceNotFound", "ResourceNotFound", 404, format, args...)
}

func cwErrLimit(format string, args ...any) error {
	return newCWErr("LimitExceededFault", "LimitExceeded", 400, format, args...)
}

func cwErrNextToken() error {
	return newCWErr("InvalidNextToken", "InvalidNextToken", 400, "The service cannot process the NextToken.")
}

func cwErrInvalidFormat(format string, args ...any) error {
	return newCWErr("InvalidFormatFault", "InvalidFormat", 400, format, args...)
}

func cwErrUnknownOp(op string) error {
	return newCWErr("UnknownOperationException", "InvalidAction", 400,
		"The action %s is not valid for this web service.", op)
}

func cwErrSerialization(err error) error {
	return newCWErr("SerializationException", "MalformedInput", 400, "%s", err.Error())
}

func writeCWError(w http.ResponseWriter, proto wire.Protocol, err error, reqID string) {
	e, ok := err.(*cwError)
	if !ok {
		e = &cwError{shape: "InternalServiceFault", code: "InternalServiceError", status: 500, fault: "Receiver", msg: err.Error()}
	}
	h := w.Header()
	// The query-compatible header makes the SDK's ErrorCode() and botocore's
	// Error.Code match what awsQuery clients see.
	h.Set("X-Amzn-Query-Error", e.code+";"+e.fault)
	var body []byte
	switch proto {
	case wire.CBOR:
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		body = wire.EncodeCBOR(wire.Pairs("__type", "com.amazonaws.cloudwatch#"+e.shape, "message", e.msg))
	case wire.JSON:
		h.Set("Content-Type", "application/x-amz-json-1.0")
		body = wire.EncodeJSON(wire.Pairs("__type", "com.amazonaws.cloudwatch#"+e.shape, "message", e.msg))
	default:
		h.Set("Content-Type", "text/xml")
		var b strings.Builder
		b.WriteString(`<ErrorResponse xmlns="` + wire.XMLNS + `"><Error><Type>` + e.fault + `</Type><Code>`)
		b.WriteString(e.code)
		b.WriteString(`</Code><Message>`)
		b.WriteString(cwXMLEscapeString(e.msg))
		b.WriteString(`</Message></Error><RequestId>`)
		b.WriteString(cwXMLEscapeString(reqID))
		b.WriteString(`</RequestId></ErrorResponse>`)
		body = []byte(b.String())
	}
	w.WriteHeader(e.status)
	_, _ = w.Write(body) // the client went away; nothing useful to do
}

func cwXMLEscapeString(s string) string {
	var b bytes.Buffer
	wire.XMLEscape(&b, s)
	return b.String()
}

// Endpoint routes CloudWatch's three protocols: RPCv2 CBOR by path,
// awsJson1.0 by X-Amz-Target, awsQuery by version.
func (c *Service) Endpoint() awsproto.Endpoint {
	return awsproto.Endpoint{Name: "cloudwatch", SigningName: "monitoring",
		TargetPrefixes: []string{wire.ServiceName + "."}, PathPrefixes: []string{"/service/" + wire.ServiceName + "/"}, QueryVersions: []string{wire.APIVersion}}
}
