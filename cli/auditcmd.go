package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/audit"
)

func newAuditCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Work with the tamper-evident audit log",
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "verify [FILE]",
		Short: "Check the audit log's hash chain; names the first entry that was changed",
		Long: `Check every entry of the audit log: its sequence number, its own hash and the
hash of the entry before it. Any change to any byte of an entry breaks the chain
at that entry. Exit 0 when the log verifies, 1 when it does not.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var arg string
			if len(args) == 1 {
				arg = args[0]
			}
			path, err := auditLogPath("audit.jsonl", arg, g.auditLog)
			if err != nil {
				return err
			}
			rep, err := audit.Verify(path)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("%s: %w", path, err))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: ok, %d entries, chain intact (last hash %.12s)\n", path, rep.Entries, rep.LastHash)
			return nil
		},
	})
	return cmd
}
