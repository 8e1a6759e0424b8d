package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/clock"
	"github.com/perch-dev/perch/sim"
)

type simFlags struct {
	scenario string
	speed    float64
	seed     int64
	faults   []string
	// specs are faults parsed by options, armed by arm.
	specs []sim.FaultSpec
	// fleet, when positive, seeds that many ALB canaries modelled on the
	// scenario's first (fleet.go).
	fleet int
	// regions, when given, are simulated behind one endpoint, the fleet
	// spread across them (perch sim only).
	regions []string
}

func addSimFlags(cmd *cobra.Command, f *simFlags, defaultSpeed float64) {
	cmd.Flags().StringVar(&f.scenario, "scenario", "healthy", "built-in scenario name or a scenario YAML file ("+scenarioNames()+")")
	cmd.Flags().Float64Var(&f.speed, "speed", defaultSpeed, "simulated seconds per wall-clock second")
	cmd.Flags().Int64Var(&f.seed, "seed", 0, "random seed (0: the scenario's own)")
	cmd.Flags().StringArrayVar(&f.faults, "fault", nil, "inject an API fault, starting now (repeatable): throttle|error:SERVICE:FRACTION, rate:SERVICE:N/s, "+
		"latency|outage:SERVICE:DURATION, expire-credentials:AFTER, drift:TARGET:EVERY; SERVICE is elbv2, cloudwatch, lambda, codedeploy, ecs, logs, sts or all")
	cmd.Flags().IntVar(&f.fleet, "fleet", 0, "seed `N` ALB canaries modelled on the scenario's first (all in the manifest)")
}

func scenarioNames() string {
	out := ""
	for i, n := range sim.BuiltinScenarios() {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}

func (f *simFlags) options(clk clock.Clock) (sim.Options, error) {
	if f.speed <= 0 || f.speed > 10000 {
		return sim.Options{}, usageErr("--speed %v: want a factor above 0 and at most 10000", f.speed)
	}
	sc, err := sim.LoadScenario(f.scenario)
	if err != nil {
		return sim.Options{}, usageErr("%v", err)
	}
	if sc, err = f.fleetScenario(sc); err != nil {
		return sim.Options{}, err
	}
	f.specs = f.specs[:0]
	for _, raw := range f.faults {
		spec, err := sim.ParseFaultSpec(raw)
		if err != nil {
			return sim.Options{}, usageErr("--fault: %v", err)
		}
		f.specs = append(f.specs, spec)
	}
	return sim.Options{Clock: clk, Scenario: sc, Seed: f.seed}, nil
}

// arm injects the --fault specs into a started simulator. Only a drift
// on a target the scenario lacks can fail here.
func (f *simFlags) arm(s *sim.Sim) error {
	for _, spec := range f.specs {
		if err := s.ApplyFaultSpec(spec); err != nil {
			return usageErr("--fault %s: %v", spec, err)
		}
	}
	return nil
}

// checkListen refuses a bad or non-loopback --listen before anything
// starts: the simulator has no authentication.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--listen %q: want HOST:PORT, such as 127.0.0.1:4566", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return usageErr("--listen %q: bad port", addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return usageErr("--listen %q: the simulator has no authentication, so it listens on loopback only", addr)
	}
	return nil
}

func newSimCmd(g *globalFlags) *cobra.Command {
	f := &simFlags{}
	var listen, manifest string
	cmd := &cobra.Command{
		Use:   "sim [--listen ADDR] [--scenario NAME|FILE]",
		Short: "Run only the simulated AWS endpoint and print how to point clients at it",
		Long: `Run perch's simulated AWS (ELBv2, Lambda, CloudWatch, CodeDeploy, ECS, STS) on loopback. It
prints the environment to point any AWS client at it (the AWS CLI too) and a
ready-to-paste perch command for each seeded canary. Stop it with Ctrl-C.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkListen(listen); err != nil {
				return err
			}
			opts, err := f.options(clock.NewScaled(time.Now().UTC(), f.speed))
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if len(f.regions) > 0 {
				return runSimRegions(cmd, f, opts, listen, manifest)
			}
			run, err := sim.Start(ctx, listen, opts)
			if err != nil {
				return withCode(ExitFailure, fmt.Errorf("start simulator: %w", err))
			}
			defer run.Close()
			if err := f.arm(run.Sim); err != nil {
				return err
			}
			m := run.Sim.Manifest(run.URL)
			if manifest != "" {
				if err := writeManifest(manifest, m); err != nil {
					return withCode(ExitFailure, err)
				}
			}
			printSimEnv(cmd.OutOrStdout(), m)
			for _, spec := range f.specs {
				fmt.Fprintf(cmd.OutOrStdout(), "# fault armed: %s\n", spec)
			}
			<-ctx.Done()
			return nil
		},
	}
	addSimFlags(cmd, f, 1)
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:4566", "address to listen on (loopback)")
	cmd.Flags().StringVar(&manifest, "manifest", "", "also write the endpoint and seeded targets as JSON to this file")
	cmd.Flags().StringSliceVar(&f.regions, "regions", nil, "simulate these regions behind the one endpoint (requests go by their SigV4 region), --fleet spread evenly across them")
	return cmd
}

func writeManifest(path string, m any) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	return nil
}

func printSimEnv(w io.Writer, m sim.Manifest) {
	fmt.Fprintf(w, "# perch sim: simulated AWS on %s (Ctrl-C to stop)\n", m.Endpoint)
	fmt.Fprintf(w, "export AWS_ENDPOINT_URL=%s\n", m.Endpoint)
	fmt.Fprintf(w, "export AWS_REGION=%s\n", m.Region)
	// The AWS CLI v1 reads only AWS_DEFAULT_REGION.
	fmt.Fprintf(w, "export AWS_DEFAULT_REGION=%s\n", m.Region)
	fmt.Fprintf(w, "export AWS_ACCESS_KEY_ID=test\n")
	fmt.Fprintf(w, "export AWS_SECRET_ACCESS_KEY=test\n")
	fmt.Fprintf(w, "export AWS_EC2_METADATA_DISABLED=true\n")
	for _, t := range m.Targets {
		if t.Note != "" {
			fmt.Fprintf(w, "# %s (%s): %s\n", t.Name, t.Kind, t.Note)
			if t.Kind == "codedeploy" && t.DeploymentID != "" {
				fmt.Fprintf(w, "#   perch codedeploy --deployment-id %s\n", t.DeploymentID)
			}
			if t.Kind == "ecs" {
				fmt.Fprintf(w, "#   perch ecs --cluster %s --service %s\n", t.Cluster, t.Service)
				if t.DeploymentARN != "" {
					fmt.Fprintf(w, "#   perch ecs --deployment-arn %s\n", t.DeploymentARN)
				}
			}
			continue
		}
		if t.Kind == "ecs" {
			fmt.Fprintf(w, "# %s (ecs %s): service deployment %s\n", t.Name, t.Strategy, t.DeploymentARN)
			fmt.Fprintf(w, "perch ecs --cluster %s --service %s\n", t.Cluster, t.Service)
			continue
		}
		if t.Kind == "codedeploy" {
			fmt.Fprintf(w, "# %s (codedeploy %s): deployment %s\n", t.Name, t.ComputePlatform, t.DeploymentID)
			fmt.Fprintf(w, "perch codedeploy --application %s --deployment-group %s\n", t.Application, t.DeploymentGroup)
			continue
		}
		fmt.Fprintf(w, "# %s (%s)\n", t.Name, t.Kind)
		if t.Kind == "lambda" {
			fmt.Fprintf(w, "perch lambda --function %s --alias %s --canary-version %s%s\n", t.Function, t.Alias, t.CanaryVersion, signalArgs(t))
			continue
		}
		alarms := ""
		for _, a := range t.Alarms {
			alarms += " --alarm " + a
		}
		fmt.Fprintf(w, "perch alb --rule-arn %s%s%s\n", t.RuleARN, alarms, signalArgs(t))
	}
}
