package awsproto

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// JSONOperation is the operation an awsJson request names in its
// X-Amz-Target header after the service's prefix; "" if it names none.
func JSONOperation(r *http.Request, prefix string) string {
	op, ok := strings.CutPrefix(r.Header.Get("X-Amz-Target"), prefix)
	if !ok {
		return ""
	}
	return op
}

// ServeJSON answers an awsJson1.1 request: the handler that ops has for
// op, given the body ("{}" when empty), or UnknownOperationException
// naming what the simulator's service (called service in the message)
// does serve.
func ServeJSON[S any](w http.ResponseWriter, svc S, service, op string, body []byte,
	ops map[string]func(S, []byte) (any, *Error)) {
	h := ops[op]
	if h == nil {
		WriteJSON(w, nil, &Error{Status: 400, Code: "UnknownOperationException",
			Message: fmt.Sprintf("the simulator does not serve %s operation %q (it has %s)", service, op, strings.Join(SortedKeys(ops), ", ")), Sender: true})
		return
	}
	if len(body) == 0 {
		body = []byte("{}")
	}
	out, aerr := h(svc, body)
	WriteJSON(w, out, aerr)
}

// WriteJSON writes an awsJson1.1 answer: out, or the error's shape (its
// code in X-Amzn-Errortype and __type).
func WriteJSON(w http.ResponseWriter, out any, aerr *Error) {
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
