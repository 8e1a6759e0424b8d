package model

import "time"

// JudgeSteps judges a canary whose traffic moves in steps. Evidence from
// the whole history answers "is it good enough to go on" (PASS), but a
// regression that appears late — at a higher weight, or after hours of
// healthy traffic — would take long to climb out of the healthy evidence
// already gathered. So a second test starts afresh at the current step
// and catches a late regression quickly.
//
// The error budget is split so the guarantee still holds for the whole
// rollout: the whole-history test gets alpha/2, and each step's test
// alpha/(2*steps), where steps bounds how many steps the rollout will
// have (the plan's length, or the ladder's for a hand-driven canary). By
// the union bound a healthy canary reaches FAIL with probability at most
// alpha. With stepStart zero only the whole-history test runs, at alpha.
func JudgeSteps(sig Signals, cfg JudgeConfig, now, stepStart time.Time, steps int) Verdict {
	cfg = cfg.withDefaults()
	if stepStart.IsZero() || !stepStart.After(cfg.Since) || steps < 1 {
		return Judge(sig, cfg, now)
	}
	whole, step := cfg, cfg
	whole.Alpha = cfg.Alpha / 2
	step.Alpha = cfg.Alpha / float64(2*steps)
	step.Since = stepStart
	all := Judge(sig, whole, now)
	recent := Judge(sig, step, now)
	if recent.Overall == VerdictFail && all.Overall != VerdictFail {
		recent.Summary += " (since this step began at " + stepStart.UTC().Format("15:04:05") + ")"
		return recent
	}
	return all
}
