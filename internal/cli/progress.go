package cli

import (
	"fmt"
	"io"
	"strings"
)

// progress shows how far a publish got: a bar redrawn in place on a
// terminal, a line every 100 events otherwise ("Imported 300/1250", as the
// API docs' bulk import prints it).
type progress struct {
	w        io.Writer
	terminal bool
	n, total int
}

func newProgress(w io.Writer, terminal bool, total int) *progress {
	return &progress{w: w, terminal: terminal, total: total}
}

func (p *progress) step() {
	p.n++
	switch {
	case p.terminal:
		const width = 30
		filled := width * p.n / max(p.total, 1)
		fmt.Fprintf(p.w, "\r[%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), p.n, p.total)
	case p.n%100 == 0:
		fmt.Fprintf(p.w, "Imported %d/%d\n", p.n, p.total)
	}
}

func (p *progress) done() {
	if p.terminal && p.n > 0 {
		fmt.Fprintln(p.w)
	}
}
