package cli

import (
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/config"
)

func newConfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check a perch.yaml fleet file",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "validate FILE",
		Short: "Parse and check a perch.yaml without calling AWS: exit 0 when it is valid, 2 with every problem and its line when not",
		Long: `Parse and check a perch.yaml strictly: unknown keys, missing or conflicting
fields, malformed ARNs, regions, ladders, plans, alarms and custom metrics are
reported as FILE:LINE: problem, one per line, and the exit code is 2. A valid
file prints a one-line summary and exits 0. Nothing is sent to AWS: whether
the named rules, aliases and alarms exist is checked when perch opens them.`,
		Example: `  perch config validate perch.yaml
  perch --config perch.yaml                  # open the fleet
  perch --config perch.yaml --target checkout`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := config.Load(args[0])
			if err != nil {
				var es *config.Errors
				if errors.As(err, &es) {
					fmt.Fprintln(cmd.ErrOrStderr(), es.Error())
					return usageErr("%s: %d problem%s", args[0], len(es.List), plural(len(es.List)))
				}
				return usageErr("%v", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), summary(f, args[0]))
			return nil
		},
	})
	return cmd
}

func summary(f *config.File, path string) string {
	kinds := map[string]int{}
	custom := 0
	for _, t := range f.Targets {
		kinds[string(t.Kind)]++
		custom += len(t.Custom)
	}
	var parts []string
	for k, n := range kinds {
		parts = append(parts, fmt.Sprintf("%d %s", n, k))
	}
	sort.Strings(parts)
	s := fmt.Sprintf("%s: ok, %d target%s (%s)", path, len(f.Targets), plural(len(f.Targets)), strings.Join(parts, ", "))
	if custom > 0 {
		s += fmt.Sprintf(", %d custom metric%s", custom, plural(custom))
	}
	return s
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
