package ui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// Styles holds every style the cockpit uses, built from one renderer so that
// each SSH session can get its own colour profile. Colour is always paired
// with a glyph or a word at the call site; with an Ascii profile the styles
// collapse to plain text and the screen must still say everything.
type Styles struct {
	Brand   lipgloss.Style
	Title   lipgloss.Style // pane titles
	Focused lipgloss.Style // the focused pane's title
	Dim     lipgloss.Style
	Bold    lipgloss.Style

	Canary lipgloss.Style
	Stable lipgloss.Style
	// Step marks the ladder step the canary is on.
	Step lipgloss.Style

	OK      lipgloss.Style
	Warn    lipgloss.Style
	Bad     lipgloss.Style
	Unknown lipgloss.Style
	Banner  lipgloss.Style // the capitalised warnings: unknown state, drift

	Axis   lipgloss.Style
	Label  lipgloss.Style
	Dialog lipgloss.Style
	Status lipgloss.Style
	// Input and Cursor are a text field's typed text and its cursor.
	Input  lipgloss.Style
	Cursor lipgloss.Style
	// Sep goes between the segments of a line, rendered once.
	Sep string

	HelpKey  lipgloss.Style
	HelpDesc lipgloss.Style
	HelpSep  lipgloss.Style
}

// NewStyles builds the styles for one renderer (nil: the default renderer).
func NewStyles(r *lipgloss.Renderer) Styles {
	if r == nil {
		r = lipgloss.DefaultRenderer()
	}
	c := func(light, dark string) lipgloss.AdaptiveColor {
		return lipgloss.AdaptiveColor{Light: light, Dark: dark}
	}
	canary := r.NewStyle().Foreground(c("#C05A00", "#FFA94D"))
	dim := r.NewStyle().Foreground(c("#777777", "#8A8A8A"))
	return Styles{
		Brand:   r.NewStyle().Bold(true).Foreground(c("#5A3FC0", "#B69CFF")),
		Title:   r.NewStyle().Bold(true),
		Focused: r.NewStyle().Bold(true).Underline(true).Foreground(c("#5A3FC0", "#B69CFF")),
		Dim:     dim,
		Bold:    r.NewStyle().Bold(true),

		Canary: canary,
		Stable: r.NewStyle().Foreground(c("#1F5FBF", "#6CB6FF")),
		Step:   canary.Bold(true),

		OK:      r.NewStyle().Foreground(c("#1A7F37", "#57D37A")),
		Warn:    r.NewStyle().Foreground(c("#9A6700", "#E3B341")),
		Bad:     r.NewStyle().Bold(true).Foreground(c("#CF222E", "#FF6B6B")),
		Unknown: r.NewStyle().Foreground(c("#8250DF", "#C297FF")),
		Banner:  r.NewStyle().Bold(true).Foreground(c("#CF222E", "#FF6B6B")),

		Axis:   r.NewStyle().Foreground(c("#999999", "#666666")),
		Label:  r.NewStyle().Foreground(c("#777777", "#8A8A8A")),
		Dialog: r.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1),
		Status: r.NewStyle().Foreground(c("#9A6700", "#E3B341")),
		Input:  r.NewStyle(),
		Cursor: r.NewStyle().Reverse(true),
		Sep:    dim.Render(" · "),

		HelpKey:  r.NewStyle().Foreground(c("#5A3FC0", "#B69CFF")),
		HelpDesc: r.NewStyle().Foreground(c("#777777", "#8A8A8A")),
		HelpSep:  r.NewStyle().Foreground(c("#BBBBBB", "#555555")),
	}
}

// side picks the style for a side.
func (s Styles) side(canary bool) lipgloss.Style {
	if canary {
		return s.Canary
	}
	return s.Stable
}

// help builds a help bar drawn in these styles.
func (s Styles) help() help.Model {
	h := help.New()
	h.Styles = help.Styles{
		Ellipsis: s.HelpSep, ShortKey: s.HelpKey, ShortDesc: s.HelpDesc, ShortSeparator: s.HelpSep,
		FullKey: s.HelpKey, FullDesc: s.HelpDesc, FullSeparator: s.HelpSep,
	}
	return h
}
