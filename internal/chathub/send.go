package chathub

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// do sends one request and decodes a success body into v (when v is not
// nil). It waits on the limiter first, and turns every failure into an
// *Error of one class.
func (c *Client) do(ctx context.Context, endpoint, method, path string, body, v any) error {
	urlPath, _, _ := strings.Cut(path, "?")
	ctx, span := c.tracer.Start(ctx, "chathub "+endpoint, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(attribute.String("http.request.method", method), attribute.String("url.path", urlPath),
			attribute.String("server.address", c.baseURL.Hostname())))
	defer span.End()
	err := c.send(ctx, endpoint, method, path, body, v)
	if ce, ok := errors.AsType[*Error](err); ok {
		if ce.StatusCode != 0 {
			span.SetAttributes(attribute.Int("http.response.status_code", ce.StatusCode))
		}
		span.SetStatus(codes.Error, ce.Class.Error())
	} else if err != nil {
		span.SetStatus(codes.Error, err.Error())
	}
	return err
}

// send is one call of do, within its span.
func (c *Client) send(ctx context.Context, endpoint, method, path string, body, v any) error {
	waitStart := time.Now()
	if err := c.limiter.Wait(ctx); err != nil {
		return &Error{Class: ErrTransient, Method: method, Path: path, Err: err}
	}
	c.observeWait(time.Since(waitStart))
	// The call may take the timeout to answer; a long list streaming in
	// may take longer, as long as it keeps coming (bytes arrive at least
	// once per timeout): the bound is on time without progress, not on
	// size.
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stalled := fmt.Errorf("no answer within %s (CHATHUB_TIMEOUT): %w", c.timeout, context.DeadlineExceeded)
	stall := time.AfterFunc(c.timeout, func() { cancel(stalled) })
	defer stall.Stop()

	// wrote tells apart a failure before the request left (safe to retry)
	// from one after (ChatHub may have acted on it).
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(httptrace.WroteRequestInfo) { wrote.Store(true) },
	})
	req, err := c.newRequest(ctx, method, path, body)
	if err != nil {
		return err
	}
	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		c.observe(endpoint, 0, time.Since(start))
		class := ErrTransient
		if wrote.Load() {
			class = ErrOutcomeUnknown
		}
		if cause := context.Cause(ctx); errors.Is(cause, stalled) {
			err = cause
		}
		return &Error{Class: class, Method: method, Path: path, Err: stripURL(err)}
	}
	defer resp.Body.Close()
	if st, ok := v.(streamer); ok && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
		// A long list is filed as it arrives, never held whole.
		err := st.decodeStream(&progressReader{r: resp.Body, progress: func() { stall.Reset(c.timeout) }})
		c.observe(endpoint, resp.StatusCode, time.Since(start))
		if err != nil {
			return brokenList(method, path, resp.StatusCode, err)
		}
		return nil
	}
	data, readErr := readCapped(resp.Body, c.maxBody)
	c.observe(endpoint, resp.StatusCode, time.Since(start))

	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		apiErr := c.checkResponse(resp, data)
		apiErr.Method, apiErr.Path = method, path
		return apiErr
	}
	// ChatHub answered success: whatever went wrong from here, it acted.
	if readErr != nil {
		return &Error{Class: ErrOutcomeUnknown, Method: method, Path: path, StatusCode: resp.StatusCode, Err: readErr}
	}
	if v == nil {
		return nil
	}
	if err := decodeInto(data, v); err != nil {
		return &Error{Class: ErrOutcomeUnknown, Method: method, Path: path, StatusCode: resp.StatusCode,
			Err: fmt.Errorf("cannot decode response: %w", err)}
	}
	return nil
}

func (c *Client) newRequest(ctx context.Context, method, path string, body any) (*http.Request, error) {
	var r io.Reader
	if body != nil {
		buf, err := json.Marshal(body)
		if err != nil {
			return nil, fmt.Errorf("cannot encode request: %w", err)
		}
		r = bytes.NewReader(buf)
	}
	u := *c.baseURL
	rel, err := url.Parse(path)
	if err != nil {
		return nil, fmt.Errorf("cannot build request path: %w", err)
	}
	u.Path += rel.Path
	u.RawQuery = rel.RawQuery
	req, err := http.NewRequestWithContext(ctx, method, u.String(), r)
	if err != nil {
		return nil, fmt.Errorf("cannot build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+*c.token.Load())
	req.Header.Set("Accept", "text/plain")
	req.Header.Set("User-Agent", c.userAgent)
	propagation.TraceContext{}.Inject(ctx, propagation.HeaderCarrier(req.Header))
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return req, nil
}
