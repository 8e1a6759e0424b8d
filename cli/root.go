// Package cli builds perch's command tree: one file per subcommand, flag
// parsing and wiring. The work itself lives in rollout, aws, sim and ui.
package cli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	perchaws "github.com/perch-dev/perch/aws"
	"github.com/perch-dev/perch/internal/privfile"
	"github.com/perch-dev/perch/rollout"
)

// Build information, stamped by the release build with -ldflags -X.
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

// Exit codes that scripts and runbooks can rely on.
const (
	ExitOK      = 0
	ExitFailure = 1 // AWS unreachable, an unexpected error
	ExitUsage   = 2 // bad flags, bad ARNs, a target perch cannot drive
	ExitRefused = 3 // refused for safety: the split changed, read-only, unknown state
	ExitFailed  = 4 // a write failed or could not be verified
)

// exitError carries an exit code with a one-line message.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageErr(format string, a ...any) error {
	return &exitError{code: ExitUsage, err: fmt.Errorf(format, a...)}
}

// configErr classifies an error from loading the AWS configuration: a
// missing region is the machine's set-up, like missing credentials (exit
// 1, with the line that says how to set one); anything else is a flag the
// operator typed (exit 2).
func configErr(err error) error {
	if errors.Is(err, perchaws.ErrNoRegion) {
		return withCode(ExitFailure, err)
	}
	return withCode(ExitUsage, err)
}

func withCode(code int, err error) error {
	if err == nil {
		return nil
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return err
	}
	return &exitError{code: code, err: err}
}

// globalFlags follow the AWS CLI where they overlap.
type globalFlags struct {
	profile     string
	region      string
	endpointURL string
	auditLog    string
	logFile     string
	poll        time.Duration
	readOnly    bool
	// reconcileAfter is how old an open intent must be before a start
	// closes it: younger ones may belong to a perch writing right now.
	reconcileAfter time.Duration
	// config is a perch.yaml naming a fleet of targets.
	config string
	// stdLog receives the standard library's log lines for this run.
	stdLog *stdLogSink
	// callTimeout bounds each AWS call, retries included.
	callTimeout time.Duration
	// apiRates are --api-rate: a fleet's client-side budget per service.
	apiRates []string
	// readOnlySet: --read-only was given, so it wins over perch.yaml's
	// read-only profiles in either direction.
	readOnlySet bool
}

// Execute runs perch with args and returns the process exit code. Errors
// are printed as one short line on stderr.
func Execute(args []string, stdout, stderr io.Writer) int {
	sink := &stdLogSink{}
	defer captureStdLog(sink)()
	root := newRoot(stdout, stderr, sink)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	// Errors quote AWS messages, names and files: never let them steer the terminal.
	fmt.Fprintf(stderr, "perch: %s\n", text(oneLine(err.Error())))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	// cobra's own errors are about flags and arguments.
	return ExitUsage
}

// oneLine folds a multi-line error (YAML decoders list each problem on
// its own line) into the one line scripts and runbooks expect.
func oneLine(msg string) string {
	var b strings.Builder
	for _, line := range strings.Split(msg, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if b.Len() > 0 {
			if strings.HasSuffix(b.String(), ":") {
				b.WriteString(" ")
			} else {
				b.WriteString("; ")
			}
		}
		b.WriteString(line)
	}
	return b.String()
}

func newRoot(stdout, stderr io.Writer, sink *stdLogSink) *cobra.Command {
	g := &globalFlags{stdLog: sink}
	root := &cobra.Command{
		Use:   "perch",
		Short: "A terminal cockpit for canary releases on AWS",
		Long: `perch attaches to a live canary — an ALB listener rule splitting traffic between
two weighted target groups, a Lambda alias with weighted routing, a CodeDeploy
deployment or an ECS service deployment — charts canary against stable, judges it with peeking-safe statistics,
and lets you step, promote or roll back from the keyboard (or run a plan on
autopilot), with every action audited.

Try it with no AWS account:  perch demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			g.readOnlySet = cmd.Flags().Changed("read-only")
			// Zero would mean "no deadline" to some readers of the value;
			// perch never waits on AWS without one.
			if g.callTimeout <= 0 {
				return usageErr("--call-timeout must be positive, got %v", g.callTimeout)
			}
			return nil
		},
		Version: fmt.Sprintf("%s (commit %s, built %s)", version, commit, date),
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	pf := root.PersistentFlags()
	pf.StringVar(&g.profile, "profile", "", "AWS shared-config profile")
	pf.StringVar(&g.region, "region", "", "AWS region (default from AWS_REGION or the profile)")
	pf.StringVar(&g.endpointURL, "endpoint-url", "", "send every AWS call to this endpoint (for example a perch sim)")
	pf.StringVar(&g.auditLog, "audit-log", "", "audit log path (default $XDG_STATE_HOME/perch/audit.jsonl)")
	pf.StringVar(&g.logFile, "log-file", "", "diagnostic log path (default $XDG_STATE_HOME/perch/perch.log)")
	pf.DurationVar(&g.poll, "poll", rollout.DefaultPoll, "how often to poll routing, metrics and alarms")
	pf.DurationVar(&g.callTimeout, "call-timeout", rollout.DefaultCallTimeout, "give up on an AWS call (its retries included) after this long")
	pf.StringArrayVar(&g.apiRates, "api-rate", nil, "a fleet's budget of AWS calls per service, account and region: SERVICE=READS[/WRITES] a second (elbv2, cloudwatch, lambda, codedeploy, ecs), or off (repeatable; docs/fleet.md has the defaults)")
	pf.BoolVar(&g.readOnly, "read-only", false, "never change traffic: write keys and commands are disabled")
	pf.DurationVar(&g.reconcileAfter, "reconcile-after", time.Minute, "reconcile intents left open by a crash once they are this old")
	_ = pf.MarkHidden("reconcile-after")
	pf.StringVar(&g.config, "config", "", "a perch.yaml naming a fleet of targets: perch --config FILE opens the fleet view")
	addFleetFlags(root, g)

	root.AddCommand(
		newDemoCmd(g),
		newSimCmd(g),
		newALBCmd(g),
		newLambdaCmd(g),
		newCodeDeployCmd(g),
		newECSCmd(g),
		newLsCmd(g),
		newStatusCmd(g),
		newShiftCmd(g),
		newPromoteCmd(g),
		newRollbackCmd(g),
		withAuditExport(newAuditCmd(g), g),
		newServeCmd(g),
		newReplayCmd(),
		newEvaluateCmd(g),
		newDrillCmd(g),
		newVersionCmd(),
		newManCmd(),
		newConfigCmd(),
	)
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print perch's version, commit and build date",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(cmd.OutOrStdout(), "perch %s\ncommit %s\nbuilt %s\n", version, commit, date)
			return nil
		},
	}
}

// stateDir is where perch keeps its audit and diagnostic logs.
func stateDir() (string, error) {
	if d := os.Getenv("XDG_STATE_HOME"); d != "" {
		return filepath.Join(d, "perch"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the state directory: %w", err)
	}
	return filepath.Join(home, ".local", "state", "perch"), nil
}

// openLogger sends diagnostics to a file: the terminal belongs to the TUI.
func openLogger(g *globalFlags) (*slog.Logger, func(), error) {
	path := g.logFile
	if path == "" {
		dir, err := stateDir()
		if err != nil {
			return nil, nil, err
		}
		path = filepath.Join(dir, "perch.log")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, nil, fmt.Errorf("create log directory: %w", err)
	}
	if err := privfile.CheckDir(filepath.Dir(path)); err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	// Never through a link: perch would append to, and chmod, whatever
	// file it points at.
	f, err := privfile.Open(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("open log file: %w", err)
	}
	// A log created by an older perch, or by hand, may be readable by
	// others: it names accounts, roles and targets.
	if st, err := f.Stat(); err == nil && st.Mode().Perm()&^0o600 != 0 {
		if err := f.Chmod(0o600); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("set log file %s to mode 0600: %w", path, err)
		}
	}
	h := slog.NewTextHandler(f, &slog.HandlerOptions{Level: slog.LevelInfo, ReplaceAttr: newRedactor().replaceAttr})
	logger := slog.New(h)
	if g.stdLog != nil {
		g.stdLog.set(logger)
	}
	return logger, func() {
		if g.stdLog != nil {
			g.stdLog.set(nil)
		}
		f.Close()
	}, nil
}
