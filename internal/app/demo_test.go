package app_test

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/config"
)

// TestDemo runs the README's first command in-process and checks what it
// prints.
func TestDemo(t *testing.T) {
	t.Parallel()
	cfg, err := config.Parse(map[string]string{}, config.Demo)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.Demo(t.Context(), cfg, &out, zerolog.Nop()); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"-> applied  hired          evt-2026-000101",
		"-> applied  leave_started  evt-2026-000105  employee E-1002  org 24  operator 102 (inactive)",
		"-> applied  terminated     evt-2026-000106  employee E-1003  org 25  operator 103 (deleted)",
		"-> dropped by HR_EVENTS",
		"-> skipped  leave_started  evt-2026-000099",
		"-> rejected hired          evt-2026-000109",
		"-> failed   hired          evt-2026-000110",
		"-> applied  transferred    evt-2026-000111  employee E-1001  org 25  operator 105 (active)",
		"org 24  Alex Brown       deleted",
		"org 25  Alex Brown       active",
		"Emma Davis       active",
		"Mike Wilson      deleted",
		"Sarah Johnson    inactive",
		"3 s ahead): it waits for its time",
		"alert on hr.alerts.guard.25: 12 deactivations held",
		"approved: the worker applies 12 held deactivations",
		"12 terminations applied after the approval",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "demo-token") {
		t.Error("demo output shows the token")
	}
	// The README shows an excerpt of this output: each of its lines is in
	// it (the README shortens with "...", and the times of a run differ).
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	excerpt, ok := demoExcerpt(string(readme))
	if !ok {
		t.Fatal("README.md has no demo excerpt after \"## What the demo shows\"")
	}
	for _, line := range strings.Split(excerpt, "\n") {
		if line = strings.TrimSpace(line); line != "" && line != "..." && !strings.Contains(text, line) {
			t.Errorf("README.md's demo excerpt shows %q, which the demo no longer prints", line)
		}
	}
}

// demoExcerpt is the first code block of the README's demo section.
func demoExcerpt(readme string) (string, bool) {
	_, section, ok := strings.Cut(readme, "## What the demo shows")
	if !ok {
		return "", false
	}
	_, block, ok := strings.Cut(section, "```\n")
	if !ok {
		return "", false
	}
	block, _, ok = strings.Cut(block, "```")
	return block, ok
}
