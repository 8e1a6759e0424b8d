package cli

import (
	"fmt"
	"os"
	"os/signal"
	"regexp"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/perch-dev/perch/sim"
)

var regionName = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-\d$`)

// runSimRegions is perch sim --regions: one simulator per region behind
// one endpoint, --fleet N spread evenly (the first regions get one more
// when N does not divide), every region's manifest printed (and written
// as a JSON list with --manifest).
func runSimRegions(cmd *cobra.Command, f *simFlags, opts sim.Options, listen, manifestPath string) error {
	if len(f.regions) > 16 {
		return usageErr("--regions: at most 16, got %d", len(f.regions))
	}
	for _, r := range f.regions {
		if !regionName.MatchString(r) {
			return usageErr("--regions: %q is not a region name such as eu-west-1", r)
		}
	}
	base, err := sim.LoadScenario(f.scenario)
	if err != nil {
		return usageErr("%v", err)
	}
	share := map[string]int{}
	for i, r := range f.regions {
		share[r] = f.fleet / len(f.regions)
		if i < f.fleet%len(f.regions) {
			share[r]++
		}
	}
	regs, err := sim.NewRegions(opts, f.regions, func(r string) (*sim.Scenario, error) {
		if f.fleet == 0 {
			return opts.Scenario, nil
		}
		if share[r] == 0 {
			return nil, fmt.Errorf("--fleet %d leaves no canary for it", f.fleet)
		}
		return sim.FleetScenario(base, share[r])
	})
	if err != nil {
		return usageErr("--regions: %v", err)
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	run, err := sim.StartRegions(ctx, listen, regs)
	if err != nil {
		return withCode(ExitFailure, fmt.Errorf("start simulator: %w", err))
	}
	defer run.Close()
	var all []sim.Manifest
	for _, r := range regs.Names() {
		if err := f.arm(regs.Sim(r)); err != nil {
			return err
		}
		m := regs.Sim(r).Manifest(run.URL)
		all = append(all, m)
		printSimEnv(cmd.OutOrStdout(), m)
	}
	if manifestPath != "" {
		if err := writeManifest(manifestPath, all); err != nil {
			return withCode(ExitFailure, err)
		}
	}
	for _, spec := range f.specs {
		fmt.Fprintf(cmd.OutOrStdout(), "# fault armed in every region: %s\n", spec)
	}
	<-ctx.Done()
	return nil
}
