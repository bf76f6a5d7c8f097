package chathub_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/chathub"
)

// TestRedirectNeverCarriesTheToken: an https ChatHub that redirects to
// plain http never gets its redirect followed, so the plain listener never
// sees the token (nor any request); the call is a misconfiguration that
// names where the redirect pointed, without its query.
func TestRedirectNeverCarriesTheToken(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var seen []string
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, fmt.Sprintf("%s %s Authorization=%q", r.Method, r.URL, r.Header.Get("Authorization")))
		mu.Unlock()
		_, _ = w.Write([]byte("[]"))
	}))
	t.Cleanup(plain.Close)
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Location", plain.URL+r.URL.Path+"?sig=query-secret")
				w.WriteHeader(code)
			}))
			t.Cleanup(secure.Close)
			// The test server's own client follows redirects, as any
			// http.Client does unless told otherwise.
			c := newClient(t, secure.URL, chathub.WithHTTPClient(secure.Client()))
			for _, which := range []string{"list", "sync", "status"} {
				err := call(t.Context(), c, which, 101)
				assertMisconfigured(t, err, code, "redirect")
				if !strings.Contains(err.Error(), plain.URL+"/api/operator") || strings.Contains(err.Error(), "query-secret") {
					t.Errorf("err = %v, want it to name the redirect's target without its query", err)
				}
			}
			if err := c.CheckToken(t.Context(), 24); err == nil {
				t.Error("CheckToken accepts a redirect")
			}
		})
	}
	mu.Lock()
	defer mu.Unlock()
	if len(seen) > 0 {
		t.Errorf("the plain-http listener got %d requests, the first: %s", len(seen), seen[0])
	}
}

// TestPlainHTTPNeedsAllowing: the client sends the token over plain http
// only to loopback, unless it is built allowing it.
func TestPlainHTTPNeedsAllowing(t *testing.T) {
	t.Parallel()
	for _, base := range []string{"http://127.0.0.1:8090", "http://localhost:8090", "http://[::1]:8090", "https://chatapi.example.com"} {
		if _, err := chathub.NewClient(base, token); err != nil {
			t.Errorf("NewClient(%s): %v", base, err)
		}
	}
	_, err := chathub.NewClient("http://chatapi.example.com", token)
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("NewClient with plain http off loopback: %v, want a refusal", err)
	}
	if _, err := chathub.NewClient("http://chatapi.example.com", token, chathub.WithAllowInsecure(true)); err != nil {
		t.Errorf("NewClient with plain http, allowed: %v", err)
	}
}
