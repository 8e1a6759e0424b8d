package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// newManCmd writes man pages for every command; the release build ships
// them next to the binary.
func newManCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "man DIR",
		Short:  "Write perch's man pages (section 1) into DIR",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return withCode(ExitFailure, fmt.Errorf("create %s: %w", args[0], err))
			}
			root := cmd.Root()
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "PERCH", Section: "1", Source: "perch " + version}
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return withCode(ExitFailure, fmt.Errorf("write man pages: %w", err))
			}
			return nil
		},
	}
}
