package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/perch-dev/perch/config"
	"github.com/perch-dev/perch/model"
	"github.com/perch-dev/perch/ui"
)

// discoverer is the list's port onto perch: scans through runScan (and
// its cache), cockpits through openSession, the scope from the global
// flags, perch.yaml's targets when --config names one.
type discoverer struct {
	g    *globalFlags
	file *config.File // nil without --config

	mu      sync.Mutex
	profile string
	regions []string
}

func newDiscoverer(g *globalFlags, file *config.File) *discoverer {
	d := &discoverer{g: g, file: file, profile: g.profile, regions: splitRegions(g.region)}
	if len(d.regions) == 0 {
		if r := defaultRegion(d.profile); r != "" {
			d.regions = []string{r}
		}
	}
	return d
}

// defaultRegion is the region the SDK would use for profile, from the
// environment or the shared config file.
func defaultRegion(profile string) string {
	for _, v := range []string{"AWS_REGION", "AWS_DEFAULT_REGION"} {
		if r := os.Getenv(v); r != "" {
			return r
		}
	}
	return sharedConfigValue(profile, "region")
}

func (d *discoverer) flags() *globalFlags {
	d.mu.Lock()
	defer d.mu.Unlock()
	g := *d.g
	g.profile, g.region = d.profile, strings.Join(d.regions, ",")
	return &g
}

func (d *discoverer) Scope() ui.DiscoverScope {
	d.mu.Lock()
	defer d.mu.Unlock()
	return ui.DiscoverScope{Profile: d.profile, Regions: append([]string(nil), d.regions...), Production: d.file.IsProduction(d.profile)}
}

// Cached is the newest cached scan of every region in scope: the oldest
// region's time stands for all.
func (d *discoverer) Cached() (ui.DiscoverResult, bool) {
	sc := d.Scope()
	var res ui.DiscoverResult
	for _, r := range sc.Regions {
		c, ok := readScanCache(sc.Profile, r)
		if !ok {
			return ui.DiscoverResult{}, false
		}
		res.Found = append(res.Found, c.Found...)
		if res.At.IsZero() || c.ScannedAt.Before(res.At) {
			res.At = c.ScannedAt
		}
	}
	return res, len(sc.Regions) > 0
}

func (d *discoverer) Scan(ctx context.Context, progress func(model.ScanProgress)) (ui.DiscoverResult, error) {
	res, err := runScan(ctx, d.flags(), false, 0, progress)
	if err != nil {
		return ui.DiscoverResult{}, err
	}
	return ui.DiscoverResult{Found: res.Found, At: res.ScannedAt, Calls: res.Calls}, nil
}

// Open opens a found canary's cockpit session, in its region.
func (d *discoverer) Open(ctx context.Context, f model.Found) (ui.Opened, error) {
	t := &targetFlags{ladder: defaultLadder}
	switch f.Kind {
	case model.KindALB:
		t.ruleARN, t.listenerARN = f.RuleARN, f.ListenerARN
	case model.KindLambda:
		t.function, t.alias = f.Function, f.Alias
	case model.KindCodeDeploy:
		t.deploymentID = f.DeploymentID
	case model.KindECS:
		t.ecsDeploymentARN = f.DeploymentID
	default:
		return ui.Opened{}, fmt.Errorf("perch cannot open a %s target from the list yet", f.Kind)
	}
	g := d.flags()
	g.region = f.Region
	return d.openSession(ctx, g, t, f.Name)
}

// OpenTarget opens a perch.yaml target's cockpit session by name.
func (d *discoverer) OpenTarget(ctx context.Context, name string) (ui.Opened, error) {
	if d.file == nil {
		return ui.Opened{}, errors.New(":target names a target of --config FILE, and perch started without one")
	}
	for _, t := range d.file.Targets {
		if t.Name != name {
			continue
		}
		tf, err := flagsFor(t)
		if err != nil {
			return ui.Opened{}, err
		}
		g := d.flags()
		if t.Region != "" {
			g.region = t.Region
		}
		if t.Profile != "" {
			g.profile = t.Profile
		}
		return d.openSession(ctx, g, tf, name)
	}
	return ui.Opened{}, fmt.Errorf("no target %q in %s", name, d.file.Path)
}

func (d *discoverer) openSession(ctx context.Context, g *globalFlags, t *targetFlags, title string) (ui.Opened, error) {
	if !g.readOnlySet && d.file != nil && d.file.ReadOnlyProfiles[g.profile] {
		g.readOnly = true
	}
	s, err := openSession(ctx, g, t, sessionOptions{via: "cockpit"})
	if err != nil {
		return ui.Opened{}, err
	}
	s.start(context.Background())
	profile, prod := g.profile, d.file
	return ui.Opened{
		Engine: s.engine,
		Options: ui.Options{Actor: s.actor, ReadOnly: g.readOnly, Title: title, Poll: g.poll, Clock: s.clock,
			Production: func(account string) bool { return prod.IsProduction(profile, account) }},
		Close: s.close,
	}, nil
}

func (d *discoverer) SetRegion(region string) error {
	regions := splitRegions(region)
	if len(regions) == 0 {
		return errors.New(":region takes a region name, as in :region eu-west-1")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.regions = regions
	return nil
}

func (d *discoverer) SetProfile(profile string) error {
	known := sharedProfiles()
	if len(known) > 0 && !contains(known, profile) {
		return fmt.Errorf("no profile %q in the AWS config files (known: %s)", profile, strings.Join(known, ", "))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.profile = profile
	if len(splitRegions(d.g.region)) == 0 {
		if r := sharedConfigValue(profile, "region"); r != "" {
			d.regions = []string{r}
		}
	}
	return nil
}

func (d *discoverer) Known() ui.DiscoverKnown {
	k := ui.DiscoverKnown{Regions: commonRegions, Profiles: sharedProfiles()}
	if d.file != nil {
		for _, t := range d.file.Targets {
			k.Targets = append(k.Targets, t.Name)
		}
	}
	return k
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// commonRegions are the regions the command line offers to complete; any
// name is accepted.
var commonRegions = []string{
	"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
	"eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1", "eu-south-1",
	"ap-northeast-1", "ap-northeast-2", "ap-south-1", "ap-southeast-1", "ap-southeast-2",
}

// sharedConfigPaths are the AWS CLI's shared files, by its rules.
func sharedConfigPaths() []string {
	home, _ := os.UserHomeDir()
	cfg := os.Getenv("AWS_CONFIG_FILE")
	if cfg == "" {
		cfg = filepath.Join(home, ".aws", "config")
	}
	creds := os.Getenv("AWS_SHARED_CREDENTIALS_FILE")
	if creds == "" {
		creds = filepath.Join(home, ".aws", "credentials")
	}
	return []string{cfg, creds}
}

// sharedProfiles lists the profiles the shared files name.
func sharedProfiles() []string {
	seen := map[string]bool{}
	for i, path := range sharedConfigPaths() {
		eachSection(path, func(section string) {
			name := section
			if i == 0 {
				// The config file writes [profile NAME], except [default].
				if n, ok := strings.CutPrefix(section, "profile "); ok {
					name = n
				} else if section != "default" {
					return
				}
			}
			seen[strings.TrimSpace(name)] = true
		}, nil)
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// sharedConfigValue is key in profile's section of the config file.
func sharedConfigValue(profile, key string) string {
	if profile == "" {
		profile = os.Getenv("AWS_PROFILE")
	}
	want := "profile " + profile
	if profile == "" || profile == "default" {
		want = "default"
	}
	var val string
	eachSection(sharedConfigPaths()[0], nil, func(section, k, v string) {
		if section == want && k == key && val == "" {
			val = v
		}
	})
	return val
}

// eachSection reads an INI-style AWS file, telling section about each
// section header and value about each key = value line.
func eachSection(path string, section func(string), value func(section, k, v string)) {
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	cur := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			cur = strings.TrimSpace(line[1 : len(line)-1])
			if section != nil {
				section(cur)
			}
		default:
			if k, v, ok := strings.Cut(line, "="); ok && value != nil {
				value(cur, strings.TrimSpace(k), strings.TrimSpace(v))
			}
		}
	}
}

// defaultLadder is --ladder's default, for cockpits opened from the list.
const defaultLadder = "0,1,5,10,25,50,100"

// runDiscover is `perch` with no target: the list of the account's
// canaries, each cockpit a keystroke away.
func runDiscover(ctx context.Context, g *globalFlags, file *config.File) error {
	d := newDiscoverer(g, file)
	if len(d.Scope().Regions) == 0 {
		return withCode(ExitFailure, errors.New("no AWS region to scan: pass --region (a comma list scans several), set AWS_REGION, or add `region = ...` to the profile in ~/.aws/config"))
	}
	m := ui.NewDiscover(d, ui.DiscoverOptions{})
	defer m.CloseOpen()
	if _, err := tea.NewProgram(m, tea.WithAltScreen(), tea.WithContext(ctx)).Run(); err != nil {
		return withCode(ExitFailure, fmt.Errorf("canary list: %w", err))
	}
	return nil
}

var _ ui.Discovery = (*discoverer)(nil)

// defaultConfig is $XDG_CONFIG_HOME/perch/perch.yaml (~/.config/perch)
// when it exists: the list's :target names and the production and
// read-only profile settings come from it. None is no error.
func defaultConfig() (*config.File, error) {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return nil, nil
		}
		dir = filepath.Join(home, ".config")
	}
	path := filepath.Join(dir, "perch", "perch.yaml")
	if _, err := os.Stat(path); err != nil {
		return nil, nil
	}
	return loadConfig(path)
}
