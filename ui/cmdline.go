package ui

import (
	"fmt"
	"strings"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
)

// cmdline is the command line ":" opens, as in k9s: :ls, :region NAME,
// :profile NAME, :target NAME, completed from the names perch knows.
type cmdline struct {
	st    *Styles
	keys  *discoverKeyMap
	input textinput.Model
	open  bool
}

// command is a parsed command line.
type command struct {
	verb string // ls, region, profile, target
	arg  string
}

// commandVerbs are the commands and whether each takes a name.
var commandVerbs = map[string]bool{"ls": false, "region": true, "profile": true, "target": true}

func newCmdline(st *Styles, keys *discoverKeyMap) cmdline {
	ti := textinput.New()
	ti.Prompt = ":"
	ti.Placeholder = "ls · region NAME · profile NAME · target NAME"
	ti.CharLimit = 128
	ti.PromptStyle = st.Bold
	ti.TextStyle = st.Input
	ti.PlaceholderStyle = st.Dim
	ti.CompletionStyle = st.Dim
	ti.Cursor.Style = st.Cursor
	ti.Cursor.SetMode(cursor.CursorStatic)
	ti.ShowSuggestions = true
	ti.KeyMap.AcceptSuggestion = keys.Complete
	return cmdline{st: st, keys: keys, input: ti}
}

// Open shows the command line with completions from known.
func (c *cmdline) Open(known DiscoverKnown) tea.Cmd {
	var s []string
	for verb, takesName := range commandVerbs {
		if !takesName {
			s = append(s, verb)
		}
	}
	for _, r := range known.Regions {
		s = append(s, "region "+r)
	}
	for _, p := range known.Profiles {
		s = append(s, "profile "+p)
	}
	for _, t := range known.Targets {
		s = append(s, "target "+t)
	}
	c.input.SetSuggestions(s)
	c.input.Reset()
	c.open = true
	return c.input.Focus()
}

func (c *cmdline) Close() { c.open = false; c.input.Blur() }

// Update takes a key: done reports that the line was submitted (ok) or
// cancelled.
func (c *cmdline) Update(msg tea.KeyMsg) (done bool, line string, ok bool, cmd tea.Cmd) {
	switch {
	case key.Matches(msg, c.keys.Submit):
		line = strings.TrimSpace(c.input.Value())
		c.Close()
		return true, line, true, nil
	case key.Matches(msg, c.keys.CancelLine):
		c.Close()
		return true, "", false, nil
	}
	c.input, cmd = c.input.Update(msg)
	return false, "", false, cmd
}

func (c *cmdline) View(width int) string {
	c.input.Width = max(10, width-2)
	return c.input.View()
}

// parseCommand reads a submitted command line.
func parseCommand(line string) (command, error) {
	fields := strings.Fields(line)
	if len(fields) == 0 {
		return command{}, fmt.Errorf("empty command: try :ls, :region NAME, :profile NAME or :target NAME")
	}
	verb := strings.ToLower(fields[0])
	takesName, known := commandVerbs[verb]
	switch {
	case !known:
		return command{}, fmt.Errorf("%q is not a command: try :ls, :region NAME, :profile NAME or :target NAME", fields[0])
	case takesName && len(fields) != 2:
		return command{}, fmt.Errorf(":%s takes one name, as in :%s NAME", verb, verb)
	case !takesName && len(fields) != 1:
		return command{}, fmt.Errorf(":%s takes no name", verb)
	}
	cmd := command{verb: verb}
	if takesName {
		cmd.arg = fields[1]
	}
	return cmd, nil
}
