package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/audit"
)

// withAuditExport adds `export` to the audit command.
func withAuditExport(auditCmd *cobra.Command, g *globalFlags) *cobra.Command {
	auditCmd.AddCommand(newAuditExportCmd(g, time.Now))
	return auditCmd
}

func newAuditExportCmd(g *globalFlags, now func() time.Time) *cobra.Command {
	var format, since, target string
	cmd := &cobra.Command{
		Use:   "export [FILE] [--format markdown|json] [--since T] [--target ARN]",
		Short: "Print a post-incident timeline of splits, actions, drift and outcomes",
		Long: `Fold the audit log into a timeline: each action with its outcome on one line
(who, through what, canary from and to, verified or not, the reason and the
judge's evidence when the autopilot acted), refusals, drift and autopilot
events. Markdown is a table ready to paste into an incident document; json is
for tools. The hash chain is checked first and the result is stated at the top.

--since takes a time (2026-11-26T09:00:00Z, "2026-11-26 09:00", 2026-11-26) in
UTC, or a duration back from now (90m, 2h).`,
		Example: `  perch audit export --since 2h --target arn:aws:elasticloadbalancing:...:listener-rule/app/shop/...
  perch audit export ./incident-audit.jsonl --format json`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "markdown" && format != "md" && format != "json" {
				return usageErr("--format %q: want markdown or json", format)
			}
			var f audit.ExportFilter
			if since != "" {
				t, err := parseSince(since, now())
				if err != nil {
					return usageErr("--since: %v", err)
				}
				f.Since = t
			}
			f.Target = target
			var arg string
			if len(args) == 1 {
				arg = args[0]
			}
			path, err := auditLogPath("audit.jsonl", arg, g.auditLog)
			if err != nil {
				return err
			}
			entries, err := audit.ReadAll(path)
			if err != nil {
				return withCode(ExitFailure, err)
			}
			meta := audit.ExportMeta{Log: path, Entries: len(entries), Verified: true, Generated: now().UTC()}
			if _, err := audit.Verify(path); err != nil {
				meta.Verified, meta.VerifyError = false, err.Error()
			}
			var desc []string
			if !f.Since.IsZero() {
				desc = append(desc, "since "+f.Since.UTC().Format("2006-01-02 15:04:05")+" UTC")
			}
			if f.Target != "" {
				desc = append(desc, "target "+f.Target)
			}
			meta.Filter = strings.Join(desc, ", ")
			rows := audit.Timeline(entries, f)
			out := cmd.OutOrStdout()
			if format == "json" {
				err = audit.WriteJSON(out, meta, rows)
			} else {
				err = audit.WriteMarkdown(out, meta, rows)
			}
			if err != nil {
				return withCode(ExitFailure, err)
			}
			if !meta.Verified {
				fmt.Fprintf(cmd.ErrOrStderr(), "perch: warning: %s: %s\n", text(path), text(meta.VerifyError))
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "markdown", "markdown or json")
	cmd.Flags().StringVar(&since, "since", "", "only entries at or after this time, or this long ago (2h)")
	cmd.Flags().StringVar(&target, "target", "", "only this target (its ARN as in the log)")
	return cmd
}

// parseSince reads an absolute UTC time or a duration back from now.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d <= 0 {
			return time.Time{}, fmt.Errorf("%q: a duration back from now must be positive", s)
		}
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02 15:04:05", "2006-01-02 15:04", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, s, time.UTC); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is neither a time (2026-11-26T09:00:00Z, 2026-11-26 09:00) nor a duration (2h)", s)
}
