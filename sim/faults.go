package sim

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Fault makes matching API calls fail, so tests (and demos) can show what
// perch does when AWS throttles, errors, or the credentials expire.
type Fault struct {
	// Service is the stats name ("elbv2", "sts", "cloudwatch", ...); ""
	// matches every service.
	Service string `json:"service,omitempty" yaml:"service"`
	// Operation, e.g. "ModifyRule"; "" matches every operation.
	Operation string `json:"operation,omitempty" yaml:"operation"`
	// Code is the wire error code: "Throttling", "InternalFailure",
	// "ServiceUnavailable", "ExpiredToken", "AccessDenied", ...
	Code string `json:"code" yaml:"code"`
	// Status is the HTTP status; 0 picks a plausible one for the code.
	Status int `json:"status,omitempty" yaml:"status"`
	// Message defaults to a sentence naming the injected fault.
	Message string `json:"message,omitempty" yaml:"message"`
	// Times is how many matching calls fail: 0 means once, a negative
	// value means until ClearFaults.
	Times int `json:"times,omitempty" yaml:"times"`
}

func (f Fault) status() int {
	if f.Status != 0 {
		return f.Status
	}
	switch f.Code {
	case "InternalFailure", "InternalError", "InternalServiceError", "ServiceException":
		return 500
	case "ServiceUnavailable":
		return 503
	case "ExpiredToken", "InvalidClientTokenId", "SignatureDoesNotMatch", "AccessDenied", "AccessDeniedException":
		return 403
	case "TooManyRequestsException":
		return 429
	}
	return 400
}

// InjectFault arms a fault. Faults are checked in the order injected; a
// call fails with the first that matches. A faulted call is still
// counted in the stats: it reached the service.
func (s *Sim) InjectFault(f Fault) error {
	if f.Code == "" {
		return fmt.Errorf("inject fault: a code is required")
	}
	if f.Times == 0 {
		f.Times = 1
	}
	if f.Message == "" {
		f.Message = fmt.Sprintf("injected fault %s", f.Code)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
	return nil
}

// ClearFaults disarms every fault.
func (s *Sim) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

// takeFault consumes one use of the first fault matching the call.
// Called with s.mu held.
func (s *Sim) takeFault(service, op string) (Fault, bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if (f.Service != "" && f.Service != service) || (f.Operation != "" && f.Operation != op) {
			continue
		}
		out := *f
		if f.Times > 0 {
			f.Times--
			if f.Times == 0 {
				s.faults = append(s.faults[:i], s.faults[i+1:]...)
			}
		}
		return out, true
	}
	return Fault{}, false
}

// writeFault answers in the protocol the request used, so the SDK turns
// it into the same error a real service would produce.
func writeFault(w http.ResponseWriter, r *http.Request, reqID string, f Fault) {
	status := f.status()
	fault := "Sender"
	if status >= 500 {
		fault = "Receiver"
	}
	h := w.Header()
	switch {
	case strings.HasPrefix(r.URL.Path, "/service/") && r.Header.Get("Smithy-Protocol") == "rpc-v2-cbor":
		h.Set("Smithy-Protocol", "rpc-v2-cbor")
		h.Set("Content-Type", "application/cbor")
		h.Set("X-Amzn-Query-Error", f.Code+";"+fault)
		w.WriteHeader(status)
		_, _ = w.Write(cbor.Encode(cbor.Map{"__type": cbor.String(f.Code), "message": cbor.String(f.Message)}))
	case r.Header.Get("X-Amz-Target") != "" || strings.HasPrefix(r.URL.Path, "/2015-03-31/"):
		// awsJson and restJson1 both read the code from X-Amzn-Errortype
		// first, then __type.
		h.Set("Content-Type", "application/x-amz-json-1.0")
		h.Set("X-Amzn-Errortype", f.Code)
		h.Set("X-Amzn-Query-Error", f.Code+";"+fault)
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": f.Code, "message": f.Message})
	default:
		h.Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, queryErrorXML("", &apiError{Status: status, Code: f.Code, Message: f.Message, Sender: fault == "Sender"}, reqID))
	}
}

// serveFaults handles /_sim/faults: POST a Fault as JSON to arm it,
// DELETE to clear all, GET to list what is armed.
func (s *Sim) serveFaults(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodPost:
		var f Fault
		dec := json.NewDecoder(io.LimitReader(r.Body, 1<<16))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&f); err != nil {
			http.Error(w, "decode fault: "+err.Error(), http.StatusBadRequest)
			return
		}
		if err := s.InjectFault(f); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet:
		s.mu.Lock()
		faults := append([]Fault{}, s.faults...)
		s.mu.Unlock()
		writeJSON(w, map[string]any{"faults": faults})
	default:
		http.Error(w, "use GET, POST or DELETE", http.StatusMethodNotAllowed)
	}
}
