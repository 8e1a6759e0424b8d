package docs

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type policy struct {
	Version   string
	Statement []struct {
		Effect string
		Action []string
	}
}

func load(t *testing.T, name string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	var p policy
	if err := json.Unmarshal(data, &p); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if p.Version != "2012-10-17" {
		t.Fatalf("%s: version %q", name, p.Version)
	}
	actions := map[string]bool{}
	for _, s := range p.Statement {
		if s.Effect != "Allow" {
			t.Fatalf("%s: unexpected effect %q", name, s.Effect)
		}
		for _, a := range s.Action {
			actions[a] = true
		}
	}
	return actions
}

var writeVerb = regexp.MustCompile(`:(Modify|Update|Stop|Continue|Set|Put|Create|Delete|Register|Deregister|Add|Remove)`)

// sdkCalls lists the AWS operations perch's adapters call, by scanning
// aws/ for client method calls, so a new call without a policy line fails.
func sdkCalls(t *testing.T) map[string]bool {
	t.Helper()
	files, err := filepath.Glob("../aws/*.go")
	if err != nil {
		t.Fatal(err)
	}
	call := regexp.MustCompile(`(\w+)\.((?:Describe|Modify|Get|Update|List|Start|Stop|Continue|BatchGet|SetAlarm|AddTags|RemoveTags)\w*)\(ctx`)
	ops := map[string]bool{}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range call.FindAllStringSubmatch(string(data), -1) {
			// The SDK's middleware helpers read the operation from ctx;
			// they are not AWS calls.
			if strings.HasSuffix(m[1], "middleware") {
				continue
			}
			ops[m[2]] = true
		}
	}
	delete(ops, "GetCallerIdentity") // allowed to every principal
	if len(ops) < 5 {
		t.Fatalf("found only %v in aws/: the scan is broken", ops)
	}
	return ops
}

func TestPoliciesCoverWhatPerchCalls(t *testing.T) {
	readOnly, operator := load(t, "iam-read-only.json"), load(t, "iam-operator.json")
	for a := range readOnly {
		// StopQuery stops perch's own Logs Insights query when it quits:
		// it changes nothing anyone else owns, and a watcher needs it too.
		if writeVerb.MatchString(a) && a != "logs:StopQuery" {
			t.Errorf("read-only policy allows a write: %s", a)
		}
		if !operator[a] {
			t.Errorf("operator policy lacks read %s", a)
		}
	}
	has := func(set map[string]bool, op string) bool {
		for a := range set {
			if strings.HasSuffix(a, ":"+op) {
				return true
			}
		}
		return false
	}
	for op := range sdkCalls(t) {
		if !has(operator, op) {
			t.Errorf("operator policy lacks %s, which aws/ calls", op)
		}
		if (!writeVerb.MatchString(":"+op) || op == "StopQuery") && !has(readOnly, op) {
			t.Errorf("read-only policy lacks %s, which aws/ calls", op)
		}
	}
}
