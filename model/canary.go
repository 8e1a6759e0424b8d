package model

import (
	"fmt"
	"strings"
	"time"
)

// CanarySource says how perch knows which side of a target is the canary.
// Every source but CanaryGuessed is a fact; a guess is shown as one and
// no write rests on it.
type CanarySource string

const (
	// CanaryFromFlag: the user said so (--canary-target-group, perch.yaml).
	CanaryFromFlag CanarySource = "flag"
	// CanaryFromMarker: the rollout marker perch keeps on AWS (tags on the
	// listener rule) while a rollout is under way, which every machine
	// and every pair sees.
	CanaryFromMarker CanarySource = "marker"
	// CanaryFromAudit: this machine's audit log, which records the canary
	// of every action, when the rollout it describes is still under way.
	CanaryFromAudit CanarySource = "audit log"
	// CanaryAtRest: all traffic on one side and no marker: the side at 0%
	// is the canary of the next rollout.
	CanaryAtRest CanarySource = "at rest"
	// CanaryFromAlias: a Lambda alias's FunctionVersion is stable and its
	// one additional weighted version the canary.
	CanaryFromAlias CanarySource = "alias"
	// CanaryFromDeployment: CodeDeploy says which side is the replacement.
	CanaryFromDeployment CanarySource = "deployment"
	// CanaryFromRevision: an ECS service deployment names it, as the
	// target group its target service revision serves.
	CanaryFromRevision CanarySource = "service-revision"
	// CanaryConfirmed: the operator confirmed it in the cockpit.
	CanaryConfirmed CanarySource = "confirmed"
	// CanaryGuessed: no fact: perch shows the lower-weighted side, marked
	// as a guess, and refuses every write until the operator confirms.
	CanaryGuessed CanarySource = "guess"
)

// Describe says the source in a few words for the screen and status.
func (s CanarySource) Describe() string {
	switch s {
	case CanaryFromFlag:
		return "as you named it"
	case CanaryFromMarker:
		return "from the rollout marker on AWS"
	case CanaryFromAudit:
		return "from this machine's audit log"
	case CanaryAtRest:
		return "at rest: the side at 0% is the next rollout's canary"
	case CanaryFromAlias:
		return "the alias's weighted version"
	case CanaryFromDeployment:
		return "CodeDeploy's replacement"
	case CanaryFromRevision:
		return "the target group of the ECS deployment's target revision"
	case CanaryConfirmed:
		return "confirmed by the operator"
	case CanaryGuessed:
		return "GUESS: the lower weight"
	}
	return string(s)
}

// RolloutMarker is what perch keeps on AWS for the length of a rollout:
// which side is the canary, so that every machine and every pair agrees.
type RolloutMarker struct {
	Canary  string    `json:"canary"` // side ID: target group ARN
	Stable  string    `json:"stable"`
	Started time.Time `json:"started"`
	By      string    `json:"by,omitempty"` // who began the rollout
}

// AuditCanary is what this machine's audit log says of a target's canary:
// the newest entry that recorded one.
type AuditCanary struct {
	Canary string
	At     time.Time
	// Active: that entry left the canary between 0% and 100%, so the
	// rollout it belongs to had not ended.
	Active bool
}

// AuditCanaryOf reads entries (oldest first) for target id.
func AuditCanaryOf(entries []AuditEntry, id string) *AuditCanary {
	for i := len(entries) - 1; i >= 0; i-- {
		e := entries[i]
		if e.Target != id || e.Canary == "" {
			continue
		}
		ac := &AuditCanary{Canary: e.Canary, At: e.Time}
		pct := e.To
		if e.Phase == PhaseIntent || (e.Phase == PhaseOutcome && e.Outcome != OutcomeOK) {
			// What was asked (or refused) is not where traffic is.
			pct = e.From
		}
		ac.Active = pct != nil && *pct > 0 && *pct < 100
		return ac
	}
	return nil
}

// CanaryFacts is what perch can know, when it attaches, about which of a
// target's two sides is the canary.
type CanaryFacts struct {
	IDs     [2]string // side IDs, in the order AWS lists them
	Names   [2]string // for messages
	Weights [2]int
	// Flag is the side ID the user named, or "".
	Flag string
	// Marker is the rollout marker on AWS, nil when there is none;
	// MarkerErr is set when it could not be read.
	Marker    *RolloutMarker
	MarkerErr string
	Audit     *AuditCanary
}

// CanaryResolution is which side is the canary and how perch knows.
type CanaryResolution struct {
	Canary int // index into the facts' IDs
	Source CanarySource
	// Unconfirmed, when set, says why no write may rest on Canary: it is
	// a guess, or the sources disagree.
	Unconfirmed string
}

// AtRest reports whether all traffic is on one side.
func (f CanaryFacts) AtRest() bool {
	return (f.Weights[0] == 0) != (f.Weights[1] == 0)
}

// ResolveCanary decides which side is the canary from facts, never from
// which weight is lower: the user's word, the marker on AWS, this
// machine's audit log for a rollout under way, or, at rest with no marker,
// the side at 0%. Sources that disagree, or none at all, leave the answer
// unconfirmed.
func ResolveCanary(f CanaryFacts) CanaryResolution {
	type claim struct {
		source CanarySource
		id     string
	}
	var claims []claim
	var problems []string
	if f.Flag != "" {
		claims = append(claims, claim{CanaryFromFlag, f.Flag})
	}
	if m := f.Marker; m != nil {
		if f.index(m.Canary) < 0 {
			problems = append(problems, fmt.Sprintf("the rollout marker names %s, which is not one of this target's sides", m.Canary))
		} else {
			claims = append(claims, claim{CanaryFromMarker, m.Canary})
		}
	}
	// At rest with no marker the previous rollout has ended: what the log
	// said of it is history, not the next rollout's canary.
	if a := f.Audit; a != nil && a.Active && f.index(a.Canary) >= 0 && !(f.Marker == nil && f.AtRest()) {
		if f.Marker == nil || a.At.After(f.Marker.Started) {
			claims = append(claims, claim{CanaryFromAudit, a.Canary})
		}
	}
	if len(claims) == 0 && len(problems) == 0 && f.MarkerErr == "" && f.AtRest() {
		zero := 0
		if f.Weights[1] == 0 {
			zero = 1
		}
		claims = append(claims, claim{CanaryAtRest, f.IDs[zero]})
	}
	if len(claims) == 0 {
		guess := 0
		if f.Weights[1] < f.Weights[0] {
			guess = 1
		}
		why := []string{"no --canary-target-group", "no rollout marker on AWS", "no rollout under way in this machine's audit log"}
		if f.MarkerErr != "" {
			why[1] = "the rollout marker could not be read (" + f.MarkerErr + ")"
		}
		why = append(problems, why...)
		basis := f.name(guess) + " has the lower weight"
		if f.Weights[0] == f.Weights[1] {
			basis = "both sides have the same weight; perch shows " + f.name(guess) + " as the canary"
		}
		return CanaryResolution{Canary: guess, Source: CanaryGuessed,
			Unconfirmed: fmt.Sprintf("which side is the canary is a guess (%s): %s", strings.Join(why, ", "), basis)}
	}
	res := CanaryResolution{Canary: f.index(claims[0].id), Source: claims[0].source}
	var disagree []string
	for _, c := range claims[1:] {
		if c.id != claims[0].id {
			disagree = append(disagree, fmt.Sprintf("the %s says %s", c.source, f.name(f.index(c.id))))
		}
	}
	if len(disagree) > 0 {
		problems = append(problems, fmt.Sprintf("the %s says %s, but %s", claims[0].source, f.name(res.Canary), strings.Join(disagree, ", ")))
	}
	if len(problems) > 0 {
		res.Unconfirmed = "which side is the canary is not settled: " + strings.Join(problems, "; ")
	}
	return res
}

func (f CanaryFacts) index(id string) int {
	for i, s := range f.IDs {
		if s == id && id != "" {
			return i
		}
	}
	return -1
}

func (f CanaryFacts) name(i int) string {
	if i < 0 {
		return "?"
	}
	if f.Names[i] != "" {
		return f.Names[i]
	}
	return f.IDs[i]
}
