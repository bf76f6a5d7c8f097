package app_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/hrevent"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestStartWaitsForADegradedCluster: two nodes of a 3-node cluster are
// down when the worker starts, so JetStream cannot create what the worker
// needs. The worker does not exit: it tries again with growing pauses,
// and starts once the nodes are back.
func TestStartWaitsForADegradedCluster(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("a 3-node cluster")
	}
	h := testenv.NewCluster(t, 3)
	h.StopNode(1)
	h.StopNode(2)
	var logs testenv.SyncBuffer
	type started struct {
		w   *app.Worker
		err error
	}
	done := make(chan started, 1)
	go func() {
		w, err := app.New(t.Context(), h.Config(), zerolog.New(&logs))
		done <- started{w, err}
	}()
	await.True(t, time.Minute, func() bool { return strings.Contains(logs.String(), "NATS cannot set up the streams and bucket yet") },
		"the setup to be tried again")
	h.StartNode(1)
	h.StartNode(2)
	var s started
	select {
	case s = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the worker did not start once the cluster was whole again")
	}
	if s.err != nil {
		t.Fatalf("the worker gave up: %v", s.err)
	}
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = s.w.Run(ctx) })
	defer wg.Wait()
	defer stop()
	h.PublishEvent(hire(1, 24))
	if r := testenv.ByEventID(t, h.WaitResults(1, time.Minute))["hire-1"]; r.Outcome != hrevent.Applied {
		t.Errorf("a hire once started: %s %q", r.Outcome, r.Reason)
	}
}

// TestHTTPServerLimits: the health and metrics server answers 431 to
// headers past 16 KiB, and closes a connection whose request never ends
// instead of holding it.
func TestHTTPServerLimits(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	w := h.Start(h.Config())
	req, err := http.NewRequest(http.MethodGet, "http://"+w.W.Addr()+"/healthz", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Padding", strings.Repeat("x", 64<<10))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestHeaderFieldsTooLarge {
		t.Errorf("64 KiB of headers: %d, want 431", resp.StatusCode)
	}

	conn, err := net.Dial("tcp", w.W.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /healthz HTTP/1.1\r\nHost: worker\r\n")); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(conn).ReadString('\n')
	if err == nil || time.Since(start) > 15*time.Second {
		t.Errorf("a request that never ends: %v after %s, want the connection closed within the read timeouts", err, time.Since(start))
	}
}
