package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/perch-dev/perch/internal/termtext"
)

// text is termtext.Clean for the command line's own output: names,
// reasons and AWS messages are someone else's text, and stdout and stderr
// are usually a terminal.
func text(s string) string { return termtext.Clean(s, 0) }

// writeJSON writes v as indented JSON that is safe to print on a terminal
// and decodes to the same values.
func writeJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode JSON: %w", err)
	}
	if _, err := w.Write(append(termtext.JSON(b), '\n')); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}
