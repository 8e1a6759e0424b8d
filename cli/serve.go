package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	gossh "golang.org/x/crypto/ssh"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/pair"
)

// serveOptions are perch serve's own flags plus what tests inject.
type serveOptions struct {
	addr           string
	authorizedKeys string
	hostKey        string
	handOverIdle   time.Duration
	record         string
	allowRemote    bool
	clock          clock.Clock // the engine's and the hand-over timer's; default wall
	// ready, when set, is told the listening address once it is known.
	ready func(net.Addr)
}

func newServeCmd(g *globalFlags) *cobra.Command {
	t := &targetFlags{}
	o := &serveOptions{}
	cmd := &cobra.Command{
		Use:   "serve --ssh ADDR --authorized-keys FILE (--rule-arn ARN | --listener-arn ARN)",
		Short: "Share one live cockpit over SSH: one driver, any number of watchers",
		Long: `Attach to a target once and serve its cockpit over SSH. Everyone who connects
sees the same live session in their own terminal (own size, own colours). The
first to connect drives; the others watch and have no write keys. A watcher
presses D to ask for the wheel: the driver hands over with D, or it passes by
itself once the driver has been idle for --handover-idle.

Only public keys listed in --authorized-keys are let in. Every action is
written to the audit log as the SSH user and the key's SHA256 fingerprint.
Connect with:  ssh -p PORT -i KEY HOST

--ssh listens on loopback unless --allow-remote is given: anyone who can
reach the port can try to log in, and every connection costs the server
something before it is refused. Prefer an SSH tunnel to a loopback port.
SIGTERM or Ctrl-C stops the server, the viewers' sessions and the engine.`,
		Example: `  perch serve --ssh 127.0.0.1:2222 --authorized-keys ~/.ssh/authorized_keys --rule-arn arn:aws:elasticloadbalancing:...`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, g, t, *o, cmd.OutOrStdout())
		},
	}
	addTargetFlags(cmd, t)
	addPlanFlags(cmd, t)
	f := cmd.Flags()
	f.StringVar(&o.addr, "ssh", "127.0.0.1:2222", "address to serve SSH on")
	f.StringVar(&o.authorizedKeys, "authorized-keys", "", "OpenSSH authorized_keys file: the only keys let in (required)")
	f.StringVar(&o.hostKey, "host-key", "", "server host key, created (ed25519, 0600) if missing (default $XDG_STATE_HOME/perch/ssh_host_ed25519_key)")
	f.DurationVar(&o.handOverIdle, "handover-idle", pair.DefaultHandOverIdle, "a request for the wheel passes by itself after the driver is idle this long")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "let --ssh listen on an address other machines can reach (default: loopback only)")
	addRecordFlag(cmd, &o.record)
	return cmd
}

// runServe attaches to the target, starts the engine and serves SSH until
// ctx ends. It is what the command runs, and what the tests run.
func runServe(ctx context.Context, g *globalFlags, t *targetFlags, o serveOptions, stdout io.Writer) error {
	if o.authorizedKeys == "" {
		return usageErr("--authorized-keys is required: perch serve lets in only the keys it lists")
	}
	if o.handOverIdle <= 0 {
		return usageErr("--handover-idle must be positive, got %v", o.handOverIdle)
	}
	remote, err := beyondLoopback(o.addr)
	if err != nil {
		return usageErr("--ssh %q: %v", o.addr, err)
	}
	if remote && !o.allowRemote {
		return usageErr("--ssh %s listens beyond this machine, where anyone who can reach the port can try to log in: listen on 127.0.0.1 and tunnel (ssh -L), or pass --allow-remote", o.addr)
	}
	keys, err := pair.LoadAuthorizedKeys(o.authorizedKeys)
	if err != nil {
		return usageErr("%v", err)
	}
	hostPath := o.hostKey
	if hostPath == "" {
		dir, err := stateDir()
		if err != nil {
			return withCode(ExitFailure, err)
		}
		hostPath = filepath.Join(dir, "ssh_host_ed25519_key")
	}
	host, err := pair.LoadOrCreateHostKey(hostPath)
	if err != nil {
		return withCode(ExitFailure, err)
	}

	s, err := openSession(ctx, g, t, sessionOptions{clock: o.clock, via: "ssh"})
	if err != nil {
		return err
	}
	defer s.close()
	clk := o.clock
	if clk == nil {
		clk = clock.Real{}
	}
	eng, stopRec, err := startRecording(s, recordTo{path: o.record, clock: clk}, "serve", g.poll)
	if err != nil {
		return err
	}
	defer stopRec()

	srv, err := pair.NewServer(pair.Config{
		Engine:         eng,
		AuthorizedKeys: keys,
		HostKey:        host,
		Clock:          clk,
		HandOverIdle:   o.handOverIdle,
		ReadOnly:       g.readOnly,
		Title:          "serve",
		Poll:           g.poll,
		Logger:         s.logger,
	})
	if err != nil {
		return withCode(ExitFailure, err)
	}
	addr, err := srv.Listen(o.addr)
	if err != nil {
		return withCode(ExitFailure, err)
	}
	fmt.Fprintf(stdout, "perch serve: %s on ssh://%s (host key %s)\n", text(s.engine.Snapshot().Target.Name), addr, gossh.FingerprintSHA256(host.PublicKey()))
	if remote {
		fmt.Fprintf(stdout, "warning: listening beyond loopback on %s: anyone who can reach it can try to log in (only the %d authorized keys get in)\n", addr, len(keys))
	}
	fmt.Fprintf(stdout, "connect with: %s   (%d authorized keys; Ctrl-C stops)\n", connectLine(addr, os.Hostname), len(keys))
	if o.ready != nil {
		o.ready(addr)
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	s.start(ctx)
	serveErr := srv.Serve(ctx)
	// Stop the engine (its action in flight finishes and is audited) and
	// wait for its poll to end before the deferred closes: the recording
	// and the audit log must not close under it.
	s.stop()
	if serveErr != nil {
		return withCode(ExitFailure, serveErr)
	}
	fmt.Fprintln(stdout, "perch serve: stopped")
	return nil
}

// beyondLoopback reports whether addr (host:port) listens where other
// machines can connect: any address but a loopback one, including the
// unspecified 0.0.0.0 and :: and an empty host.
func beyondLoopback(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if host == "localhost" {
		return false, nil
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip == nil || !ip.IsLoopback(), nil
}

// connectLine is the ssh command that reaches a server listening on a.
// Listening on every address (0.0.0.0, ::), no one can connect to that
// address itself: the line names this machine instead.
func connectLine(a net.Addr, hostname func() (string, error)) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "ssh -p PORT -i KEY " + a.String()
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = "HOST"
		if name, err := hostname(); err == nil && name != "" {
			host = name
		}
		return fmt.Sprintf("ssh -p %s -i KEY %s (or any address of this machine)", port, host)
	}
	return fmt.Sprintf("ssh -p %s -i KEY %s", port, host)
}
