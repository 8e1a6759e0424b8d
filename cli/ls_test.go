package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

// perch ls on the discovery scenario lists exactly its canaries with their
// splits, as JSON and as a table, and caches the scan.
func TestLsListsExactlyTheCanaries(t *testing.T) {
	c := newCLIEnv(t, "discovery")
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, out, errOut := c.perch(t, "ls", "--json")
	if code != 0 {
		t.Fatalf("ls --json: exit %d\n%s", code, errOut)
	}
	var res scanResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("ls --json: %v\n%s", err, out)
	}
	var got []string
	for _, f := range res.Found {
		got = append(got, string(f.Kind)+" "+f.Name+" "+f.SplitText())
	}
	want := "alb cart rule 10 70%/30%\nalb checkout rule 10 90%/10%\nalb edge default rule 75%/25%\nalb ledger rule 30 80%/10%/10%\n" +
		"alb search rule 10 50%/50%\ncodedeploy web-app/web-bg 90%/10%\nlambda orders:live 90%/10%"
	if strings.Join(got, "\n") != want {
		t.Fatalf("ls found\n%s\nwant\n%s", strings.Join(got, "\n"), want)
	}
	if res.Calls == 0 || len(res.Regions) != 1 || res.Regions[0] != "us-east-1" {
		t.Fatalf("ls: regions %v, %d calls", res.Regions, res.Calls)
	}
	if cached, ok := readScanCache("", "us-east-1"); !ok || len(cached.Found) != len(res.Found) {
		t.Fatalf("cache: %v, %d entries", ok, len(cached.Found))
	}

	code, out, errOut = c.perch(t, "ls")
	if code != 0 || !strings.Contains(out, "KIND") || !strings.Contains(out, "checkout rule 10") || !strings.Contains(errOut, "7 canaries") {
		t.Fatalf("ls: exit %d\n%s%s", code, out, errOut)
	}
	for _, decoy := range []string{"billing", "legacy", "ledger rule 10", "single"} {
		if strings.Contains(out, decoy) {
			t.Errorf("ls lists the decoy %q:\n%s", decoy, out)
		}
	}
	// --all-regions asks the account which regions are enabled: only the
	// simulator's.
	c.sim.Sim.ResetStats()
	t.Setenv("AWS_REGION", "us-east-1")
	code, out, errOut = c.run(t, "ls", "--json", "--all-regions", "--endpoint-url", c.sim.URL)
	if code != 0 || c.sim.Sim.Stats()["account:ListRegions"] != 1 {
		t.Fatalf("ls --all-regions: exit %d, stats %v\n%s", code, c.sim.Sim.Stats(), errOut)
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil || len(res.Regions) != 1 || len(res.Found) != 7 {
		t.Fatalf("ls --all-regions: %v %+v", err, res.Regions)
	}
	if code, _, errOut := c.run(t, "ls", "--all-regions", "--region", "us-east-1,eu-west-1", "--endpoint-url", c.sim.URL); code != ExitUsage {
		t.Fatalf("--region with --all-regions: exit %d %s", code, errOut)
	}
}
