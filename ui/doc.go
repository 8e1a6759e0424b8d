// Package ui is perch's cockpit: a bubbletea program that renders the
// engine's snapshots and turns keys into intents. It never talks to AWS: all
// it knows of the world arrives as model.Snapshot values, through the
// engine's rollout.Control.
package ui
