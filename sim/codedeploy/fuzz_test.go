package codedeploy

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/perch-dev/perch/sim/awsproto"
	"github.com/perch-dev/perch/sim/scenario"
)

// FuzzCodeDeployRequest drives the awsJson1.1 CodeDeploy handler with any
// operation and body: every request gets an answer in CodeDeploy's shape
// (a JSON body; errors with X-Amzn-Errortype and __type), never a panic.
func FuzzCodeDeployRequest(f *testing.F) {
	f.Add(uint8(0), []byte(`{"deploymentId":"DEPLOY"}`))
	f.Add(uint8(1), []byte(`{"deploymentIds":["DEPLOY","d-XXXXXXXXX"]}`))
	f.Add(uint8(2), []byte(`{"applicationName":"APP","deploymentGroupName":"GROUP","includeOnlyStatuses":["InProgress"]}`))
	f.Add(uint8(3), []byte(`{"deploymentId":"DEPLOY","autoRollbackEnabled":true}`))
	f.Add(uint8(4), []byte(`{"deploymentId":"DEPLOY","deploymentWaitType":"READY_WAIT"}`))
	f.Add(uint8(5), []byte(`{"deploymentId":"DEPLOY","targetIds":["x"]}`))
	f.Add(uint8(6), []byte(`null`))
	f.Add(uint8(7), []byte(`{"deploymentConfigName":"CodeDeployDefault.ECSCanary10Percent5Minutes"}`))
	sc, err := scenario.Load("codedeploy-ecs")
	if err != nil {
		f.Fatal(err)
	}
	ops := awsproto.SortedKeys(cdOps)
	f.Fuzz(func(t *testing.T, op uint8, body []byte) {
		c, targets := seeded(t, sc)
		for _, mt := range targets {
			if mt.DeploymentID != "" {
				body = []byte(strings.NewReplacer("DEPLOY", mt.DeploymentID, "APP", mt.Application, "GROUP", mt.DeploymentGroup).Replace(string(body)))
				break
			}
		}
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.Header.Set("X-Amz-Target", cdTargetPrefix+ops[int(op)%len(ops)])
		r.Header.Set("Content-Type", "application/x-amz-json-1.1")
		rec := httptest.NewRecorder()
		c.Operation(r, body)
		c.Serve(rec, r, body)
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil && rec.Body.String() != "null\n" {
			t.Fatalf("%d answer is not JSON: %q", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusOK {
			if rec.Code < 400 || rec.Code > 599 || rec.Header().Get("X-Amzn-Errortype") == "" || out["__type"] == nil {
				t.Fatalf("error %d not in CodeDeploy's shape: %v %q", rec.Code, rec.Header(), rec.Body.String())
			}
		}
	})
}
