package lambda

import (
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/perch-dev/perch/sim/scenario"
)

// SeedFunction publishes versions 1..max(stable, canary) of a scenario
// function, creates its weighted alias and any extras, and registers the
// alias with the traffic model (StartTraffic first). It returns the
// manifest targets, the alias's first, then its extras. IDs and
// RevisionIds derive from seed, so the same scenario and seed give the
// same answers; start is the simulator's start.
func (lam *Service) SeedFunction(l *scenario.Lambda, seed int64, start time.Time) []scenario.ManifestTarget {
	f := &lambdaFunction{
		name:    l.Name,
		arn:     lam.functionARN(l.Name),
		role:    fmt.Sprintf("arn:aws:iam::%s:role/%s-role", lam.account, l.Name),
		aliases: map[string]*lambdaAlias{},
	}
	n := l.HighestVersion()
	for v := 1; v <= n; v++ {
		ver := strconv.Itoa(v)
		state := "Active"
		switch ver {
		case l.StableVersion:
			state = *l.Stable.State
		case l.CanaryVersion:
			state = *l.Canary.State
		}
		sum := sha256.Sum256([]byte(fmt.Sprintf("%d/%s/%d", seed, l.Name, v)))
		f.versions = append(f.versions, &lambdaVersion{
			version:     ver,
			codeSha256:  base64.StdEncoding.EncodeToString(sum[:]),
			codeSize:    int64(6_000_000 + 1_337*v),
			description: "build " + ver,
			state:       state,
			// One release a day, the newest yesterday.
			lastModified: start.Add(-time.Duration(n-v+1) * 24 * time.Hour).Truncate(time.Second),
			revisionID:   lam.newRevision(),
		})
	}
	// $LATEST holds the newest version's code, so PublishVersion has
	// nothing new to publish, as after a normal release.
	latest := *f.versions[n-1]
	latest.version, latest.state, latest.revisionID = "$LATEST", "Active", lam.newRevision()
	f.latest = &latest

	alias := &lambdaAlias{
		name:            l.Alias,
		description:     fmt.Sprintf("stable %s, canary %s", l.StableVersion, l.CanaryVersion),
		functionVersion: l.StableVersion,
		weights:         map[string]float64{},
		revisionID:      lam.newRevision(),
	}
	if l.CanaryWeight > 0 {
		alias.weights[l.CanaryVersion] = l.CanaryWeight / 100
	}
	f.aliases[alias.name] = alias
	lam.functions[f.name] = f

	base := scenario.ManifestTarget{
		Kind: "lambda", Function: f.name,
		StableVersion: l.StableVersion, CanaryVersion: l.CanaryVersion,
	}
	main := base
	main.Name, main.Alias, main.AliasARN = f.name+":"+alias.name, alias.name, f.arn+":"+alias.name
	out := []scenario.ManifestTarget{main}
	lam.traffic.addRun(l, f)

	for _, x := range l.Extras {
		extra := &lambdaAlias{name: l.Alias + "-" + x, functionVersion: l.StableVersion,
			weights: map[string]float64{}, revisionID: lam.newRevision()}
		t := base
		switch x {
		case scenario.ExtraDanglingRoutingAlias:
			extra.name = l.Alias + "-dangling"
			missing := strconv.Itoa(n + 1)
			extra.weights[missing] = 0.1
			t.Note = fmt.Sprintf("alias routes 10%% to version %s, which was never published", missing)
		case scenario.ExtraNoRoutingAlias:
			extra.name = l.Alias + "-plain"
			t.Note = "alias has no routing (all traffic on version " + l.StableVersion + "): perch needs --canary-version"
		case scenario.ExtraLatestAlias:
			extra.name = l.Alias + "-latest"
			extra.functionVersion = "$LATEST"
			t.Note = "alias points at $LATEST, which cannot take weighted routing"
		}
		extra.description = t.Note
		f.aliases[extra.name] = extra
		t.Name, t.Alias, t.AliasARN = f.name+":"+extra.name, extra.name, f.arn+":"+extra.name
		out = append(out, t)
	}
	return out
}
