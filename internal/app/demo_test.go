package app_test

import (
	"bytes"
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
	cfg, err := config.Parse(map[string]string{}, true)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := app.Demo(t.Context(), cfg, &out, zerolog.Nop()); err != nil {
		t.Fatalf("demo: %v\n%s", err, out.String())
	}
	text := out.String()
	for _, want := range []string{
		"results (12 expected)",
		"applied  hired          evt-2026-000101",
		"duplicate id: dropped by HR_EVENTS deduplication",
		"skipped  leave_started  evt-2026-000099",
		"rejected hired          evt-2026-000109",
		"failed   hired          evt-2026-000110",
		"Emma Davis       active",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("demo output lacks %q:\n%s", want, text)
		}
	}
	// Mike was terminated: deleted, or never created when his hire and
	// termination came in one batch.
	if strings.Contains(text, "Mike Wilson      active") {
		t.Errorf("a terminated employee is active:\n%s", text)
	}
	if strings.Contains(text, "demo-token") {
		t.Error("demo output shows the token")
	}
}
