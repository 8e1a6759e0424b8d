package lambda

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/perch-dev/perch/sim/scenario"
)

var lambdaFuzzMethods = []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete}

// FuzzLambdaRequest drives the restJson1 Lambda handler with arbitrary
// methods, paths and bodies: every request gets an answer in Lambda's
// shape, never a panic, and no alias is ever left with routing Lambda
// itself would refuse.
func FuzzLambdaRequest(f *testing.F) {
	f.Add(uint8(0), "/2015-03-31/functions/orders/aliases/live", []byte(``))
	f.Add(uint8(1), "/2015-03-31/functions/orders/aliases/live", []byte(`{"FunctionVersion":"7","RoutingConfig":{"AdditionalVersionWeights":{"8":0.25}},"RevisionId":"x"}`))
	f.Add(uint8(1), "/2015-03-31/functions/orders/aliases/live", []byte(`{"RoutingConfig":{"AdditionalVersionWeights":{"8":1.5,"7":0.1}}}`))
	f.Add(uint8(0), "/2015-03-31/functions/orders/aliases?MaxItems=1&Marker=x", []byte(``))
	f.Add(uint8(0), "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A123456789012%3Afunction%3Aorders/versions", []byte(``))
	f.Add(uint8(0), "/2015-03-31/functions/orders/configuration?Qualifier=8", []byte(``))
	f.Add(uint8(2), "/2015-03-31/functions/orders/versions", []byte(`{"CodeSha256":"abc","Description":"d"}`))
	f.Add(uint8(3), "/2015-03-31/functions/orders", []byte(`null`))
	sc, err := scenario.Load("lambda-healthy")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, method uint8, path string, body []byte) {
		if len(path) == 0 || path[0] != '/' {
			path = "/" + path
		}
		l := seeded(sc)
		r, err := http.NewRequest(lambdaFuzzMethods[int(method)%len(lambdaFuzzMethods)], "http://127.0.0.1"+path, bytes.NewReader(body))
		if err != nil {
			return // not a request any client could send
		}
		rec := httptest.NewRecorder()
		l.Operation(r, body)
		l.Serve(rec, r, body)
		if rec.Code < 200 || rec.Code > 599 {
			t.Fatalf("status %d", rec.Code)
		}
		if rec.Code >= 300 {
			if rec.Header().Get("X-Amzn-Errortype") == "" {
				t.Fatalf("error %d without X-Amzn-Errortype", rec.Code)
			}
			var e map[string]string
			if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || e["message"] == "" {
				t.Fatalf("error body is not Lambda's shape: %q", rec.Body.String())
			}
		}
		for _, fn := range l.functions {
			for name, a := range fn.aliases {
				var sum float64
				for v, w := range a.weights {
					if w < 0 || w >= 1 || v == a.functionVersion || fn.version(v) == nil {
						t.Fatalf("alias %s: weight %v on version %s (primary %s)", name, w, v, a.functionVersion)
					}
					sum += w
				}
				if sum >= 1 {
					t.Fatalf("alias %s: weights sum to %v", name, sum)
				}
			}
		}
	})
}
