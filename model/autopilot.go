package model

// AutopilotStatus is what the screen shows of a running plan: where it is,
// what it decided last and why.
type AutopilotStatus struct {
	Plan     Plan         `json:"plan"`
	State    PlanState    `json:"state"`
	Decision PlanDecision `json:"decision"`
	// Running is true while the plan can still act (not paused, not done).
	Running bool `json:"running"`
}
