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
	var head string
	verify := &cobra.Command{
		Use:   "verify [FILE] [--head HASH]",
		Short: "Check the audit log's hash chain; names the first entry that was changed",
		Long: `Check every entry of the audit log: its sequence number, its own hash and the
hash of the entry before it. Any change to any byte of an entry breaks the chain
at that entry. Exit 0 when the log verifies, 1 when it does not.

Entries cut off the end leave a chain that still verifies. --head takes the
log's head as the cockpit shows it (the audit pane's "head #N HASH"), or as an
export or a pair's screen recorded it: verify then also checks that the log
still holds that entry, and fails when it does not.`,
		Example: `  perch audit verify --head 3f9a1c2be0d4`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var arg string
			if len(args) == 1 {
				arg = args[0]
			}
			if head != "" {
				if err := audit.CheckHead(head); err != nil {
					return usageErr("--head: %v", err)
				}
			}
			path, err := auditLogPath("audit.jsonl", arg, g.auditLog)
			if err != nil {
				return err
			}
			rep, err := audit.VerifyHead(path, head)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("%s: %w", path, err))
			}
			out := fmt.Sprintf("%s: ok, %d entries, chain intact (last hash %.12s)", text(path), rep.Entries, rep.LastHash)
			if head != "" {
				out += fmt.Sprintf("; head %s is entry %d", text(head), rep.HeadSeq)
				if after := rep.LastSeq - rep.HeadSeq; after > 0 {
					out += fmt.Sprintf(", %d written after it", after)
				}
			}
			fmt.Fprintln(cmd.OutOrStdout(), out)
			return nil
		},
	}
	verify.Flags().StringVar(&head, "head", "", "the hash (12 or more hex digits) the log's newest entry had when you saw it: fail if the log no longer reaches it")
	cmd.AddCommand(verify)
	return cmd
}
