package cli

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/audit"
	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/model"
)

func newLsCmd(g *globalFlags) *cobra.Command {
	var asJSON, allRegions bool
	var parallel int
	cmd := &cobra.Command{
		Use:   "ls [--json] [--region a,b | --all-regions]",
		Short: "List what is rolling out in the account: every canary perch can open",
		Long: `List the canaries in the profile's region (or --region a,b, or every enabled region
with --all-regions): ALB listener rules and default actions that forward to two or
more weighted target groups (at 100/0 only with perch's rollout marker), Lambda
aliases with weighted routing, and CodeDeploy deployments still shifting or waiting.

Every list call is paged to its end, --parallel calls at a time per region, with the
SDK's adaptive retries on throttling. The result is cached per profile and region
(the cockpit's list opens on it, showing its age).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if parallel < 1 || parallel > 64 {
				return usageErr("--parallel %d: want 1 to 64", parallel)
			}
			scan, err := runScan(cmd.Context(), g, allRegions, parallel, func(p model.ScanProgress) {})
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(cmd.OutOrStdout(), scan)
			}
			printScan(cmd.OutOrStdout(), scan, time.Now())
			fmt.Fprintf(cmd.ErrOrStderr(), "perch: scanned %s in %s: %d %s, %d AWS calls\n",
				strings.Join(scan.Regions, ", "), scan.Took.Round(time.Millisecond), len(scan.Found), canaries(len(scan.Found)), scan.Calls)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	cmd.Flags().BoolVar(&allRegions, "all-regions", false, "scan every region the account has enabled (account:ListRegions)")
	cmd.Flags().IntVar(&parallel, "parallel", perchaws.DefaultScanParallel, "AWS calls in flight per region")
	return cmd
}

// scanResult is the JSON contract of perch ls --json, and what the cache
// keeps.
type scanResult struct {
	Profile   string        `json:"profile,omitempty"`
	Regions   []string      `json:"regions"`
	ScannedAt time.Time     `json:"scanned_at"`
	Took      time.Duration `json:"took_ns"`
	Calls     int64         `json:"calls"`
	Found     []model.Found `json:"found"`
}

// runScan scans the regions --region names (comma-separated), or every
// enabled one, at once, and caches each region's result.
func runScan(ctx context.Context, g *globalFlags, allRegions bool, parallel int, progress func(model.ScanProgress)) (scanResult, error) {
	started := time.Now()
	regions := splitRegions(g.region)
	if allRegions && len(regions) > 0 {
		return scanResult{}, usageErr("--region and --all-regions name the regions twice: give one")
	}
	counter := perchaws.NewCallCounter()
	load := func(region string) (awssdk.Config, error) {
		cfg, err := perchaws.LoadConfig(ctx, perchaws.ConfigOptions{Profile: g.profile, Region: region, EndpointURL: g.endpointURL, CallTimeout: g.callTimeout})
		if err != nil {
			return awssdk.Config{}, configErr(err)
		}
		counter.Attach(&cfg)
		return cfg, nil
	}
	describe := func(err error) string { return perchaws.DescribeErrorWithProfile(err, g.profile) }
	if allRegions || len(regions) == 0 {
		base, err := load(firstOr(regions, ""))
		if err != nil {
			return scanResult{}, err
		}
		regions = []string{base.Region}
		if allRegions {
			if regions, err = perchaws.EnabledRegions(ctx, base); err != nil {
				return scanResult{}, withCode(ExitFailure, fmt.Errorf("%s", describe(err)))
			}
		}
	}
	history := scanHistory(g)
	res := scanResult{Profile: g.profile, Regions: regions}
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	for _, region := range regions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			found, err := scanRegion(ctx, load, region, parallel, progress)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = withCode(ExitFailure, fmt.Errorf("scan %s: %s", region, describe(err)))
				}
				return
			}
			found = perchaws.WithHistory(found, history)
			res.Found = append(res.Found, found...)
			writeScanCache(g.profile, region, found)
		}()
	}
	wg.Wait()
	if firstErr != nil {
		return scanResult{}, firstErr
	}
	sort.SliceStable(res.Found, func(i, j int) bool { return res.Found[i].Region < res.Found[j].Region })
	if res.Found == nil {
		res.Found = []model.Found{}
	}
	all, _ := perchaws.CallTotals(counter.Counts())
	res.ScannedAt, res.Took, res.Calls = time.Now().UTC(), time.Since(started), all
	return res, nil
}

func scanRegion(ctx context.Context, load func(string) (awssdk.Config, error), region string, parallel int, progress func(model.ScanProgress)) ([]model.Found, error) {
	cfg, err := load(region)
	if err != nil {
		return nil, err
	}
	return perchaws.NewScanner(cfg, parallel, progress).Scan(ctx)
}

// scanHistory is this machine's audit log, for when each split last
// changed; a log that cannot be read only means "unknown".
func scanHistory(g *globalFlags) []model.AuditEntry {
	path, err := auditLogPath("audit.jsonl", g.auditLog)
	if err != nil {
		return nil
	}
	entries, err := audit.ReadAll(path)
	if err != nil {
		return nil
	}
	return entries
}

func splitRegions(s string) []string {
	var out []string
	for _, r := range strings.Split(s, ",") {
		if r = strings.TrimSpace(r); r != "" {
			out = append(out, r)
		}
	}
	return out
}

func firstOr(s []string, def string) string {
	if len(s) > 0 {
		return s[0]
	}
	return def
}

// printScan is perch ls's table.
func printScan(w io.Writer, res scanResult, now time.Time) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAME\tREGION\tSPLIT\tCANARY\tCHANGED\tMARKER\tNOTE")
	for _, f := range res.Found {
		canary := "?"
		if f.CanaryPercent != nil {
			canary = model.FormatPercent(*f.CanaryPercent)
		}
		changed := "unknown"
		if !f.Changed.IsZero() {
			changed = sinceText(now.Sub(f.Changed)) + " ago"
		}
		marker := "-"
		if f.Marked {
			marker = "yes"
		}
		note := f.Note
		if f.Status != "" {
			note = strings.TrimSpace(f.Status + " " + note)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Kind, text(f.Name), text(f.Region), f.SplitText(), canary, changed, marker, text(note))
	}
	tw.Flush()
}

// sinceText is a duration the way a person says it: 45s, 12m, 3h, 2d.
func sinceText(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

func canaries(n int) string {
	if n == 1 {
		return "canary"
	}
	return "canaries"
}
