package awsproto

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type echo struct{ seen string }

func TestServeJSONDispatchesAndNamesWhatItServes(t *testing.T) {
	ops := map[string]func(*echo, []byte) (any, *Error){
		"Echo": func(e *echo, body []byte) (any, *Error) {
			e.seen = string(body)
			return map[string]string{"ok": "yes"}, nil
		},
		"Fail": func(*echo, []byte) (any, *Error) { return nil, SenderErr("ThingNotFoundException", "no thing %q", "x") },
	}
	serve := func(target string) (*httptest.ResponseRecorder, *echo) {
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.Header.Set("X-Amz-Target", target)
		w, e := httptest.NewRecorder(), &echo{}
		ServeJSON(w, e, "Thing", JSONOperation(r, "Thing_1."), nil, ops)
		return w, e
	}
	w, e := serve("Thing_1.Echo")
	if w.Code != 200 || e.seen != "{}" || !strings.Contains(w.Body.String(), `"ok":"yes"`) || w.Header().Get("Content-Type") != "application/x-amz-json-1.1" {
		t.Fatalf("echo: %d %q %q", w.Code, e.seen, w.Body)
	}
	w, _ = serve("Thing_1.Fail")
	if w.Code != 400 || w.Header().Get("X-Amzn-Errortype") != "ThingNotFoundException" || !strings.Contains(w.Body.String(), `"__type":"ThingNotFoundException"`) {
		t.Fatalf("fail: %d %v %q", w.Code, w.Header(), w.Body)
	}
	w, _ = serve("Other_1.Echo")
	if w.Code != 400 || !strings.Contains(w.Body.String(), `the simulator does not serve Thing operation \"\" (it has Echo, Fail)`) {
		t.Fatalf("unknown: %d %q", w.Code, w.Body)
	}
}
