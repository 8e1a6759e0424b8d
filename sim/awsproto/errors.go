package awsproto

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/aws/smithy-go/encoding/cbor"
)

// Error is an error the simulator returns to the client in the
// service's own error shape.
type Error struct {
	Status  int
	Code    string
	Message string
	Sender  bool // Type Sender (client fault) vs Receiver
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func SenderErr(code, format string, args ...any) *Error {
	return &Error{Status: 400, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

func ValidationErr(format string, args ...any) *Error {
	return SenderErr("ValidationError", format, args...)
}

// WriteUnknown answers a request no service claimed, in the shape its
// markers suggest: JSON for X-Amz-Target clients, awsQuery XML otherwise.
func WriteUnknown(w http.ResponseWriter, r *http.Request, reqID string, e *Error) {
	if r.Header.Get("X-Amz-Target") != "" || strings.Contains(r.Header.Get("Content-Type"), "json") {
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Header().Set("X-Amzn-Errortype", e.Code)
		w.WriteHeader(e.Status)
		_ = json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.Status)
	_, _ = io.WriteString(w, QueryErrorXML("", e, reqID))
}

// WriteFault answers an injected fault in the protocol the request used, so the SDK turns
// it into the same error a real service would produce.
func WriteFault(w http.ResponseWriter, r *http.Request, reqID string, f *Error) {
	status := f.Status
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
		_, _ = io.WriteString(w, QueryErrorXML("", &Error{Status: status, Code: f.Code, Message: f.Message, Sender: fault == "Sender"}, reqID))
	}
}
