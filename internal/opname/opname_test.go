package opname_test

import (
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/opname"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, want string }{
		{"Alex Brown", ""},
		{"", "must not be blank"},
		{strings.Repeat("ж", 100), ""},
		{strings.Repeat("ж", 101), "must be at most 100 characters"},
		{string(make([]rune, 100)), "must not contain control characters"},
		{"Ünïcødé ✓", ""},
		{"a\\x7fb", ""},
		{"a\x7fb", "must not contain control characters"},
		{"\xff", "is not valid UTF-8"},
	}
	for _, tt := range tests {
		if got := opname.Check(tt.name); got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := opname.Normalize("  Alex Brown \t"); got != "Alex Brown" {
		t.Errorf("Normalize = %q", got)
	}
}
