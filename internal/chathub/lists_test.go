package chathub_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chathub-operator-worker/worker/internal/chathub"
)

// listServer answers every list with write.
func listServer(t *testing.T, write func(w *bufio.Writer, flush func())) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		bw := bufio.NewWriter(w)
		write(bw, func() { _ = bw.Flush(); w.(http.Flusher).Flush() })
		_ = bw.Flush()
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// operators writes n operators of organization 24 as a JSON array.
func operators(w *bufio.Writer, n int, between func(i int)) {
	w.WriteString("[")
	for i := range n {
		if i > 0 {
			w.WriteString(",")
		}
		fmt.Fprintf(w, `{"id":%d,"name":"Operator number %07d of a large organization","status":0,"organizationId":24}`, i+1, i)
		if between != nil {
			between(i)
		}
	}
	w.WriteString("]")
}

// TestListsOfAnySize: a list far larger than any buffer (150,000
// operators, about 13 MB) is read whole, and so is one that takes several
// times CHATHUB_TIMEOUT to arrive as long as bytes keep coming; one that
// stops coming for CHATHUB_TIMEOUT is transient trouble; a body that is
// not an operator list is a misconfiguration, said once; one cut short is
// transient.
func TestListsOfAnySize(t *testing.T) {
	t.Parallel()
	t.Run("large", func(t *testing.T) {
		t.Parallel()
		url := listServer(t, func(w *bufio.Writer, _ func()) { operators(w, 150_000, nil) })
		c := newClient(t, url)
		if n, err := c.CountActive(t.Context(), 24); err != nil || n != 150_000 {
			t.Errorf("CountActive = %d, %v; want 150000", n, err)
		}
	})
	t.Run("slow but moving", func(t *testing.T) {
		t.Parallel()
		// Paced on purpose: an operator every 20 ms, 600 ms in all.
		url := listServer(t, func(w *bufio.Writer, flush func()) {
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			operators(w, 30, func(int) { flush(); <-tick.C })
		})
		c := newClient(t, url, chathub.WithTimeout(200*time.Millisecond))
		if ops, err := c.ListOperators(t.Context(), 24); err != nil || len(ops) != 30 {
			t.Errorf("a list of 600 ms at a timeout of 200 ms: %d operators, %v; want 30", len(ops), err)
		}
	})
	t.Run("stalled", func(t *testing.T) {
		t.Parallel()
		// The answer stops after two operators until the client gave up.
		release := make(chan struct{})
		url := listServer(t, func(w *bufio.Writer, flush func()) {
			operators(w, 3, func(i int) {
				if i == 1 {
					flush()
					<-release
				}
			})
		})
		defer close(release)
		c := newClient(t, url, chathub.WithTimeout(200*time.Millisecond))
		_, err := c.ListOperators(t.Context(), 24)
		assertClass(t, err, chathub.ErrTransient)
	})
	t.Run("not a list", func(t *testing.T) {
		t.Parallel()
		url := listServer(t, func(w *bufio.Writer, _ func()) { w.WriteString("<html><body>Welcome</body></html>") })
		_, err := newClient(t, url).ListOperators(t.Context(), 24)
		assertClass(t, err, chathub.ErrMisconfigured)
	})
	t.Run("cut short", func(t *testing.T) {
		t.Parallel()
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "100000")
			w.Write([]byte(`[{"id":1,"name":"Alex","status":0,"organizationId":24},`))
			w.(http.Flusher).Flush()
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}))
		t.Cleanup(srv.Close)
		_, err := newClient(t, srv.URL).ListOperators(t.Context(), 24)
		assertClass(t, err, chathub.ErrTransient)
	})
}
