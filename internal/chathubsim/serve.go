package chathubsim

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// ServeHTTP answers the three documented endpoints.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	endpoint := ""
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/healthz":
		// Not ChatHub's: for a container healthcheck, without the token.
		fmt.Fprintln(w, "ok")
		return
	case r.Method == http.MethodGet && r.URL.Path == "/api/operator":
		endpoint = "list"
	case r.Method == http.MethodPost && r.URL.Path == "/api/operator/synchronize":
		endpoint = "synchronize"
	case r.Method == http.MethodPost && r.URL.Path == "/api/operator/status":
		endpoint = "status"
	default:
		http.NotFound(w, r)
		return
	}
	// Reading the whole body first lets the server notice a client that
	// hangs up during the latency below.
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return
	}
	f, fault, delay := s.admit(endpoint, r)
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if fault != nil {
		fault(w)
		return
	}
	switch endpoint {
	case "list":
		s.list(w, r)
	case "synchronize":
		s.synchronize(w, body, f)
	case "status":
		s.status(w, body, f)
	}
}

// admit counts the call, decides which fault (if any) answers it instead
// of the endpoint, and how long the answer is delayed.
func (s *Server) admit(endpoint string, r *http.Request) (Faults, func(http.ResponseWriter), time.Duration) {
	f, fault := s.decide(endpoint, r)
	delay := f.Latency
	if endpoint == "status" {
		delay += f.StatusLatency
	}
	if f.LatencyMax > f.Latency {
		s.mu.Lock()
		delay += time.Duration(s.rng.Int64N(int64(f.LatencyMax - f.Latency)))
		s.mu.Unlock()
	}
	return f, fault, delay
}

// decide counts the call and decides, under the lock, which fault (if
// any) answers it instead of the endpoint.
func (s *Server) decide(endpoint string, r *http.Request) (Faults, func(http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	s.counters.Calls[endpoint]++
	s.arrivals = append(s.arrivals, now)
	if len(s.arrivals) > maxArrivals {
		// A long-running simulator keeps the newer half.
		s.arrivals = slices.Delete(s.arrivals, 0, maxArrivals/2)
	}
	f := s.faults

	if r.Header.Get("Authorization") != "Bearer "+s.token || f.Unauthorized {
		s.counters.Unauthorized++
		return f, func(w http.ResponseWriter) {
			writeError(w, http.StatusUnauthorized, "Unauthorized: the company token is invalid or expired; request a new token")
		}
	}
	if f.RateLimit > 0 && s.recentArrivals(now, time.Second-f.RateLimitSlack) > f.RateLimit {
		s.counters.Throttled++
		return f, throttle(time.Second, false)
	}
	if f.ThrottleRate > 0 && s.rng.Float64() < f.ThrottleRate {
		s.counters.Throttled++
		return f, throttle(f.RetryAfter, f.RetryAfterAsDate)
	}
	if f.ErrorRate > 0 && s.rng.Float64() < f.ErrorRate {
		s.counters.ServerErrors++
		return f, func(w http.ResponseWriter) { writeError(w, http.StatusServiceUnavailable, "service unavailable") }
	}
	return f, nil
}

// recentArrivals counts the calls, this one included, that arrived within
// window before now.
func (s *Server) recentArrivals(now time.Time, window time.Duration) int {
	n := 0
	for i := len(s.arrivals) - 1; i >= 0 && now.Sub(s.arrivals[i]) < window; i-- {
		n++
	}
	return n
}

func throttle(after time.Duration, asDate bool) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		if after > 0 {
			if asDate {
				w.Header().Set("Retry-After", time.Now().Add(after).UTC().Format(http.TimeFormat))
			} else {
				w.Header().Set("Retry-After", strconv.Itoa(int((after+time.Second-1)/time.Second)))
			}
		}
		writeError(w, http.StatusTooManyRequests, "too many requests")
	}
}
