package app_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

func scrape(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}

// TestMetricsMove scrapes /metrics of a running worker before and after it
// handles events, and checks the figures moved.
func TestMetricsMove(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	w := h.Start(h.Config())
	url := "http://" + w.W.Addr() + "/metrics"
	before := scrape(t, url)
	// The series alerts read exist at 0 before anything happened.
	for _, want := range []string{
		`chathub_worker_events_total{kind="hired",outcome="applied"} 0`,
		`chathub_worker_events_total{kind="terminated",outcome="failed"} 0`,
		`chathub_worker_events_total{kind="transferred",outcome="applied"} 0`,
		`chathub_worker_chathub_requests_total{code="429",endpoint="synchronize"} 0`,
		`chathub_worker_retries_total{reason="chathub"} 0`,
		`chathub_worker_build_info{commit=`,
	} {
		if !strings.Contains(before, want) {
			t.Errorf("before any event, /metrics lacks %s", want)
		}
	}
	for i := range 5 {
		h.PublishEvent(hire(i, 24))
	}
	h.PublishEvent(transfer("move-0", 0, 25, t0.Add(time.Hour)))
	h.Publish([]byte("not json"), "hired", "")
	h.WaitResults(7, 30*time.Second)
	var after string
	await.True(t, 10*time.Second, func() bool {
		after = scrape(t, url)
		return strings.Contains(after, "chathub_worker_consumer_pending_messages 0")
	}, "the backlog gauge")
	for _, want := range []string{
		`chathub_worker_events_total{kind="hired",outcome="applied"} 5`,
		`chathub_worker_events_total{kind="transferred",outcome="applied"} 1`,
		`chathub_worker_events_total{kind="unknown",outcome="rejected"} 1`,
		`chathub_worker_chathub_requests_total{code="200",endpoint="synchronize"}`,
		`chathub_worker_chathub_request_duration_seconds_count{endpoint="list"}`,
		`chathub_worker_synchronize_batch_size_count`,
		`chathub_worker_rate_limiter_wait_seconds_count`,
		`chathub_worker_batch_events_count`,
		`chathub_worker_paused 0`,
	} {
		if !strings.Contains(after, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	for i := range 5 {
		if strings.Contains(after, fmt.Sprintf("E-%d", i)) {
			t.Errorf("an employee id appears in /metrics")
		}
	}
	if strings.Contains(after, testenv.Token) {
		t.Error("the token appears in /metrics")
	}
	if got := status(t, "http://"+w.W.Addr()+"/healthz"); got != 200 {
		t.Errorf("/healthz = %d", got)
	}
	if got := status(t, "http://"+w.W.Addr()+"/readyz"); got != 200 {
		t.Errorf("/readyz = %d", got)
	}
}
