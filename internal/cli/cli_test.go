package cli_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/cli"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// run calls a subcommand with the harness's NATS and ChatHub.
func run(t *testing.T, h *testenv.Harness, cmd func(context.Context, []string, cli.Env) error, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := cli.Env{Stdout: &out, Stderr: &errOut, Environ: map[string]string{
		"NATS_URL": h.NS.ClientURL(), "CHATHUB_BASE_URL": h.SimURL, "CHATHUB_TOKEN": testenv.Token,
	}}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	err := cmd(ctx, args, env)
	return out.String(), errOut.String(), err
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestPublishJSONLines(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	hire := func(i int) string {
		return string(testenv.Event{ID: fmt.Sprint("j", i), Kind: "hired", Employee: fmt.Sprint("E", i), Name: fmt.Sprint("N", i), Org: 24, At: t0}.Body())
	}
	path := writeFile(t, "events.jsonl", hire(1)+"\n"+`{"specversion":"1.0"}`+"\n\n"+hire(2)+"\n"+hire(3)+"\n")
	out, errOut, err := run(t, h, cli.Publish, path)
	if cli.ExitCode(err) != 3 || err.Error() != "1 invalid line not published" {
		t.Errorf("err = %v (exit %d), want it to count the invalid line, exit 3", err, cli.ExitCode(err))
	}
	if !strings.Contains(out, "published 3, already in the stream 0, invalid 1 (of 4 lines)") {
		t.Errorf("summary: %q", out)
	}
	if !strings.Contains(errOut, "line 2: invalid: the event does not match schemas/event.json") {
		t.Errorf("stderr: %q", errOut)
	}
	// Publishing the file again adds nothing.
	out, _, _ = run(t, h, cli.Publish, path)
	if !strings.Contains(out, "published 0, already in the stream 3") {
		t.Errorf("second run: %q", out)
	}
	out, _, err = run(t, h, cli.Publish, writeFile(t, "one.jsonl", hire(4)+"\n"))
	if err != nil || out != "published 1, already in the stream 0, invalid 0 (of 1 line)\n" {
		t.Errorf("one line: %v %q", err, out)
	}
	_, _, err = run(t, h, cli.Publish, writeFile(t, "bad.jsonl", "{}\n"))
	if cli.ExitCode(err) != 1 || err.Error() != "the one line is invalid" {
		t.Errorf("one invalid line: %v", err)
	}
}

func TestPublishCSVThenResults(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	var csv strings.Builder
	csv.WriteString("employeeId,organizationId,name,kind,time\n")
	for i := range 150 {
		fmt.Fprintf(&csv, "E-%d,24,Person %d,hired,2026-11-23T09:00:00Z\n", i, i)
	}
	csv.WriteString("E-9,24,,terminated,2026-11-23T10:00:00Z\n")
	csv.WriteString("E-x,24,Someone,promoted,2026-11-23T10:00:00Z\n")
	csv.WriteString("E-y,999,Nobody,hired,2026-11-23T10:00:00Z\n")
	path := writeFile(t, "people.csv", csv.String())
	out, errOut, err := run(t, h, cli.Publish, path)
	if err == nil || !strings.Contains(errOut, `line 153: invalid: kind "promoted"`) {
		t.Errorf("err %v, stderr %q: want line 153 named", err, errOut)
	}
	if !strings.Contains(errOut, "Imported 100/152") || !strings.Contains(out, "published 152, already in the stream 0, invalid 1") {
		t.Errorf("output: %q, progress %q", out, errOut)
	}
	if again, _, _ := run(t, h, cli.Publish, path); !strings.Contains(again, "published 0, already in the stream 152") {
		t.Errorf("second run: %q", again)
	}
	h.WaitResults(152, time.Minute)

	out, _, err = run(t, h, cli.Results, "-follow=false")
	// E-9's hire and termination may be taken in together; the hire is
	// then skipped, overtaken by the termination.
	applied, overtaken := len(regexp.MustCompile(`(?m)^applied +hired `).FindAllString(out, -1)), strings.Count(out, "overtaken by terminated")
	if err != nil || applied+overtaken != 150 || applied < 149 || !regexp.MustCompile(`(?m)^applied +terminated `).MatchString(out) {
		t.Errorf("results: %v\n%s", err, out)
	}
	out, _, err = run(t, h, cli.Results, "-follow=false", "-json", "-outcome", "failed")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var r hrevent.Result
	if err != nil || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &r) != nil || r.EmployeeID != "E-y" || r.Outcome != hrevent.Failed {
		t.Errorf("failed results as JSON: %v\n%s", err, out)
	}
	out, _, _ = run(t, h, cli.Results, "-follow=false", "-employee", "E-9")
	if n := len(regexp.MustCompile(`(?m) E-9 +24 `).FindAllString(out, -1)); n != 2 || !strings.HasPrefix(out, "OUTCOME ") {
		t.Errorf("results for E-9:\n%s", out)
	}
	if _, _, err := run(t, h, cli.Results, "-outcome", "great"); err == nil || !strings.Contains(err.Error(), `"great" is not one of`) {
		t.Errorf("bad outcome: %v", err)
	}
}

// TestResultsFollows: results printed while they arrive, until interrupted.
func TestResultsFollows(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	ctx, cancel := context.WithCancel(t.Context())
	var out testenv.SyncBuffer
	done := make(chan error, 1)
	go func() {
		done <- cli.Results(ctx, nil, cli.Env{Stdout: &out, Stderr: &out, Environ: map[string]string{"NATS_URL": h.NS.ClientURL()}})
	}()
	h.PublishEvent(testenv.Event{ID: "f1", Kind: "hired", Employee: "E-f", Name: "Follow Me", Org: 24, At: t0})
	await.True(t, 20*time.Second, func() bool {
		return regexp.MustCompile(`applied +hired +f1 +E-f +24 +\d+ \(active\)`).MatchString(out.String())
	}, "the result to be printed")
	// A second result, with wider values, printed on its own.
	h.PublishEvent(testenv.Event{ID: "follow-2-longer", Kind: "leave_started", Employee: "E-follow-2", Org: 24, At: t0})
	await.True(t, 20*time.Second, func() bool { return strings.Contains(out.String(), "follow-2-longer") }, "the second result to be printed")
	cancel()
	if err := <-done; err != nil {
		t.Errorf("results returned %v after interrupt", err)
	}
	// Every row lines up with the header, up to the reason.
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	cells := regexp.MustCompile(`\S+(?: \S+)*`)
	header := cells.FindAllStringIndex(lines[0], -1)
	for _, row := range lines[1:] {
		got := cells.FindAllStringIndex(row, -1)
		for i := range 8 {
			if i >= len(got) || got[i][0] != header[i][0] {
				t.Errorf("row not aligned with the header at column %d:\n%s", i+1, out.String())
				break
			}
		}
	}
}

func TestOperators(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Sim.AddOperator(24, "John Smith", 0)
	h.Sim.AddOperator(24, "Mike Wilson", 1)
	h.Sim.AddOperator(24, "Sarah Johnson", 2)
	out, _, err := run(t, h, cli.Operators, "-org", "24")
	if err != nil || !strings.Contains(out, "Mike Wilson    inactive") ||
		!strings.Contains(out, "organization 24: 3 operators, 1 active, 1 inactive, 1 deleted") {
		t.Errorf("table: %v\n%s", err, out)
	}
	out, _, err = run(t, h, cli.Operators, "-org", "24", "-json")
	var got struct {
		Operators []struct{ ID int64 }
		Stats     struct{ Total, Active, Inactive, Deleted int }
	}
	if err != nil || json.Unmarshal([]byte(out), &got) != nil || len(got.Operators) != 3 || got.Stats.Deleted != 1 {
		t.Errorf("JSON: %v\n%s", err, out)
	}
	if _, _, err := run(t, h, cli.Operators, "-org", "999"); err == nil || !strings.Contains(err.Error(), "HTTP 400") {
		t.Errorf("unknown organization: %v", err)
	}
}

// TestReplay: a hire failed for an unknown organization; once ChatHub
// knows it, replay makes the operator. A dry run publishes nothing.
func TestReplay(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	h.Start(h.Config())
	h.PublishEvent(testenv.Event{ID: "r1", Kind: "hired", Employee: "E-r", Name: "Late Org", Org: 77, At: t0})
	h.Publish([]byte("not json"), "hired", "")
	h.PublishEvent(testenv.Event{ID: "r2", Kind: "hired", Employee: "E-ok", Name: "Fine", Org: 24, At: t0})
	h.WaitResults(3, 30*time.Second)

	out, _, err := run(t, h, cli.Replay, "-dry-run")
	if err != nil || !strings.Contains(out, "would replay hired r1 from seq 1") || !strings.Contains(out, "would replay unknown - from seq 2") ||
		!strings.Contains(out, "would replay 2") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	h.Sim.AddOrganization(77, "Late")
	out, _, err = run(t, h, cli.Replay, "-outcome", "failed")
	if err != nil || !strings.Contains(out, "replayed hired r1 from seq 1 as seq 4") {
		t.Errorf("replay: %v\n%s", err, out)
	}
	await.True(t, 30*time.Second, func() bool { return len(h.Sim.Operators(77)) == 1 }, "the replayed hire to create the operator")
	// The replay's own result is published beside the first one's.
	await.True(t, 30*time.Second, func() bool {
		for _, r := range h.Results() {
			if r.EventID == "r1" && r.StreamSequence == 4 && r.Outcome == hrevent.Applied {
				return true
			}
		}
		return false
	}, "the replayed hire's own result")
}
