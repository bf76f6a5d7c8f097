package chathub_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/chathub-operator-worker/worker/internal/chathub"
)

// TestWrongPathIsMisconfiguration: a base URL whose path is wrong gets
// 404 for every call. That is the worker's configuration, not the event:
// every call is classed with ErrUnauthorized (pause and probe, never
// "failed"), says what to check, and CheckToken fails.
func TestWrongPathIsMisconfiguration(t *testing.T) {
	t.Parallel()
	sim, srv := startSim(t)
	id := sim.AddOperator(24, "Existing", 0)
	c := newClient(t, srv.URL+"/v2")
	for _, which := range []string{"list", "sync", "status"} {
		t.Run(which, func(t *testing.T) {
			err := call(t.Context(), c, which, id)
			assertMisconfigured(t, err, http.StatusNotFound, "base URL")
		})
	}
	if err := c.CheckToken(t.Context(), 24); err == nil {
		t.Error("CheckToken accepts a base URL whose every path is 404")
	}
	if ops := sim.Operators(24); len(ops) != 1 || ops[0].Status != 0 {
		t.Errorf("the simulator changed: %+v", ops)
	}
}

// TestProxyRefusalIsMisconfiguration: a 403 (a proxy or a firewall in the
// way, or a token without access) is classed like a 401, a 400 stays the
// request's own fault, and CheckToken fails on 401, 403 and 404 only.
func TestProxyRefusalIsMisconfiguration(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Query().Get("organizationId") {
		case "403":
			http.Error(w, "Request blocked by the web application firewall", http.StatusForbidden)
		case "404":
			http.NotFound(w, r)
		case "401":
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
		case "400":
			http.Error(w, "organizationId is unknown", http.StatusBadRequest)
		default:
			_, _ = w.Write([]byte("[]"))
		}
	}))
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL)
	_, err := c.ListOperators(t.Context(), 403)
	assertMisconfigured(t, err, http.StatusForbidden, "proxy")
	if !strings.Contains(err.Error(), "firewall") {
		t.Errorf("the error drops the proxy's own message: %v", err)
	}
	_, err = c.ListOperators(t.Context(), 400)
	assertClass(t, err, chathub.ErrPermanent)

	for org, wantErr := range map[int]bool{401: true, 403: true, 404: true, 400: false, 1: false} {
		err := c.CheckToken(t.Context(), org)
		if (err != nil) != wantErr {
			t.Errorf("CheckToken with HTTP %d: %v, want an error: %v", org, err, wantErr)
		}
		if err != nil && !errors.Is(err, chathub.ErrUnauthorized) {
			t.Errorf("CheckToken with HTTP %d: %v is not ErrUnauthorized", org, err)
		}
	}
}

// assertMisconfigured checks that err is an ErrMisconfigured, which
// errors.Is also matches as ErrUnauthorized, carries the status, and tells
// a person to check hint.
func assertMisconfigured(t *testing.T, err error, status int, hint string) {
	t.Helper()
	assertClass(t, err, chathub.ErrMisconfigured)
	if !errors.Is(err, chathub.ErrUnauthorized) {
		t.Errorf("err = %v, want it to match ErrUnauthorized, so that callers pause", err)
	}
	var apiErr *chathub.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != status {
		t.Errorf("err = %v, want HTTP %d", err, status)
	}
	if !strings.Contains(err.Error(), hint) {
		t.Errorf("err = %v, want it to say to check the %s", err, hint)
	}
}
