package cli

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/sim"
)

const (
	markerSecret = "MARKERsecretKEYwJalrXUtnFEMIK7MDENGbPxRfiCY"
	// markerToken is shorter than a real session token so that only the
	// value itself, not the long-blob pattern, can catch it.
	markerToken = "MARKERsessionTOKENIQoJb3JpZ2luX2VjEHwaCXVz"
)

// TestSecretsNeverReachLogsAuditOrRecordings runs commands, good and
// failing, with marker credentials in the environment, then reads every
// file perch wrote (diagnostic log, audit log, a recording): no marker,
// no signature, and each file mode 0600.
func TestSecretsNeverReachLogsAuditOrRecordings(t *testing.T) {
	c := newCLIEnv(t, "healthy")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIAMARKERACCESSKEY0")
	t.Setenv("AWS_SECRET_ACCESS_KEY", markerSecret)
	t.Setenv("AWS_SESSION_TOKEN", markerToken)
	dir := t.TempDir()
	logPath := filepath.Join(dir, "perch.log")
	auditPath := filepath.Join(dir, "audit.jsonl")
	recPath := filepath.Join(dir, "session.perch.gz")
	// A log left world-readable by something else is tightened on open.
	if err := os.WriteFile(logPath, []byte("older line\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	target := c.sim.Manifest.Targets[0]
	files := []string{"--log-file", logPath, "--audit-log", auditPath}
	perch := func(wantOK bool, args ...string) {
		t.Helper()
		code, _, errOut := c.perch(t, append(args, files...)...)
		if (code == 0) != wantOK {
			t.Fatalf("perch %v: exit %d %s", args, code, errOut)
		}
		if strings.Contains(errOut, markerSecret) || strings.Contains(errOut, markerToken) {
			t.Fatalf("perch %v printed a credential: %q", args, errOut)
		}
	}
	perch(true, "status", "--json", "--rule-arn", target.RuleARN)
	perch(true, "shift", "--to", "30", "--rule-arn", target.RuleARN, "--reason", "marker test")
	perch(false, "shift", "--to", "40", "--rule-arn", target.RuleARN[:len(target.RuleARN)-16]+"0123456789abcdef")
	code, _, _ := c.run(t, append([]string{"rollback", "--rule-arn", target.RuleARN, "--endpoint-url", "http://127.0.0.1:1", "--region", "us-east-1"}, files...)...)
	if code == 0 {
		t.Fatal("rollback against a closed port succeeded")
	}
	// Expired credentials: every call fails and the engine logs why.
	spec, _ := sim.ParseFaultSpec("expire-credentials:0s")
	if err := c.sim.Sim.ApplyFaultSpec(spec); err != nil {
		t.Fatal(err)
	}
	perch(false, "status", "--rule-arn", target.RuleARN)
	perch(false, "promote", "--rule-arn", target.RuleARN)
	c.sim.Sim.ClearFaults()

	// A recorded cockpit session, in-process as runCockpit wires it.
	g := &globalFlags{endpointURL: c.sim.URL, region: "us-east-1", auditLog: auditPath, logFile: logPath, poll: time.Second, reconcileAfter: time.Minute}
	tf := &targetFlags{ruleARN: target.RuleARN, ladder: "0,1,5,10,25,50,100"}
	ctx := context.Background()
	s, err := openSession(ctx, g, tf, sessionOptions{via: "cockpit"})
	if err != nil {
		t.Fatal(err)
	}
	eng, stop, err := startRecording(s, recordTo{path: recPath}, "marker", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	s.engine.PollOnce(ctx)
	if res := eng.Execute(ctx, model.Intent{Kind: model.StepUp, Actor: s.actor, Reason: "recorded"}); !res.Verified {
		t.Fatalf("recorded step: %+v", res)
	}
	s.engine.PollOnce(ctx)
	// The redactor is the last line of defence: feed it what a careless
	// error could carry and it must not reach the file either.
	s.logger.Warn("presigned", "err", fmt.Errorf("GET https://sts.amazonaws.com/?X-Amz-Signature=deadbeefcafe&X-Amz-Security-Token=%s", markerToken),
		"header", "Authorization: AWS4-HMAC-SHA256 Credential=AKIA/20261126/us-east-1/sts/aws4_request, Signature=feedfacefeed")
	stop()
	s.close()

	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.HasSuffix(path, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
			if data, err = io.ReadAll(zr); err != nil {
				return fmt.Errorf("%s: %w", path, err)
			}
		}
		for _, bad := range []string{markerSecret, markerToken, "deadbeefcafe", "feedfacefeed"} {
			if bytes.Contains(data, []byte(bad)) {
				t.Errorf("%s contains %q", filepath.Base(path), bad)
			}
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %o, want 600", filepath.Base(path), perm)
		}
		seen[filepath.Base(path)] = len(data) > 0
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"perch.log", "audit.jsonl", "session.perch.gz"} {
		if !seen[f] {
			t.Errorf("%s was not written, so it was not checked", f)
		}
	}
	logData, _ := os.ReadFile(logPath)
	for _, want := range []string{"attach to target", "ExpiredToken", redacted} {
		if !bytes.Contains(logData, []byte(want)) {
			t.Errorf("the log lacks %q, so the failing paths were not exercised:\n%s", want, logData)
		}
	}
}

func TestRedactorScrubsCredentialShapes(t *testing.T) {
	t.Setenv("AWS_SECRET_ACCESS_KEY", markerSecret)
	t.Setenv("AWS_SESSION_TOKEN", "short")
	r := newRedactor()
	for _, tc := range []struct{ in, gone, kept string }{
		{"key " + markerSecret + " leaked", markerSecret, "leaked"},
		{"https://x/?X-Amz-Signature=abc123&Action=Describe", "abc123", "Action=Describe"},
		{"X-Amz-Security-Token: tok123 next", "tok123", "next"},
		{`{"SessionToken":"tok456","Expiration":"soon"}`, "tok456", "Expiration"},
		{"Authorization: AWS4-HMAC-SHA256 Credential=AKID/x, Signature=ff00", "ff00", "Authorization"},
		{"blob " + strings.Repeat("QUJD", 40) + " end", strings.Repeat("QUJD", 40), "end"},
		{"rule arn:aws:elasticloadbalancing:us-east-1:123456789012:listener-rule/app/shop/50dc/f2f7/9683 not found", "", "listener-rule/app/shop/50dc/f2f7/9683"},
	} {
		out := r.scrub(tc.in)
		if (tc.gone != "" && strings.Contains(out, tc.gone)) || !strings.Contains(out, tc.kept) {
			t.Errorf("scrub(%q) = %q", tc.in, out)
		}
	}
	// A short value like "test" must not redact ordinary words.
	if out := r.scrub("the short test"); out != "the short test" {
		t.Errorf("short env values redacted text: %q", out)
	}
}
