package deploy_test

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/nats-io/nats-server/v2/conf"
)

// TestNATSPermissionsDocumented: docs/nats-permissions.md lists, for the
// worker and for the tools, exactly the subjects that
// nats/chathub-permissions.conf grants (the file the server runs with in
// TestNATSPermissions), each once, and no subject is denied.
func TestNATSPermissionsDocumented(t *testing.T) {
	t.Parallel()
	vars, err := conf.ParseFile("nats/chathub-permissions.conf")
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile("../docs/nats-permissions.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"CHATHUB_WORKER_PERMISSIONS", "CHATHUB_TOOLS_PERMISSIONS"} {
		perms, ok := vars[name].(map[string]any)
		if !ok {
			t.Fatalf("%s is not defined in chathub-permissions.conf", name)
		}
		granted := grants(t, name, perms)
		listed := documented(t, string(doc), name)
		slices.Sort(granted)
		slices.Sort(listed)
		if !slices.Equal(granted, listed) {
			t.Errorf("%s: the file grants\n  %s\nthe docs list\n  %s", name, strings.Join(granted, "\n  "), strings.Join(listed, "\n  "))
		}
	}
}

// grants lists a permissions block as "direction subject" lines.
func grants(t *testing.T, name string, perms map[string]any) []string {
	t.Helper()
	var out []string
	for _, direction := range []string{"publish", "subscribe"} {
		block, _ := perms[direction].(map[string]any)
		if _, ok := block["deny"]; ok {
			t.Errorf("%s denies %s subjects; the docs list only what is allowed", name, direction)
		}
		allow, _ := block["allow"].([]any)
		for _, s := range allow {
			out = append(out, fmt.Sprint(direction, " ", s))
		}
	}
	return out
}

// tableRow is a row of a permissions table: direction, then the subject.
var tableRow = regexp.MustCompile("^\\| (publish|subscribe) \\| `([^`]+)` \\|")

// documented lists the rows of the table in the section whose heading
// names the variable.
func documented(t *testing.T, doc, name string) []string {
	t.Helper()
	var out []string
	in := false
	for line := range strings.Lines(doc) {
		if strings.HasPrefix(line, "#") {
			in = strings.Contains(line, "`"+name+"`")
			continue
		}
		if m := tableRow.FindStringSubmatch(line); in && m != nil {
			out = append(out, m[1]+" "+m[2])
		}
	}
	if len(out) == 0 {
		t.Errorf("docs/nats-permissions.md has no table under a heading naming %s", name)
	}
	return out
}
