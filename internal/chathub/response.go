package chathub

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// checkResponse turns a non-2xx response into an *Error of the right
// class. It is the one place where status codes get their meaning.
func (c *Client) checkResponse(resp *http.Response, body []byte) *Error {
	e := &Error{StatusCode: resp.StatusCode, Message: c.message(body)}
	switch code := resp.StatusCode; {
	case code == http.StatusUnauthorized:
		e.Class = ErrUnauthorized
	case code == http.StatusNotFound:
		// The API's own paths exist: a 404 says the base URL is wrong,
		// and every event would fail on it.
		e.Class = ErrMisconfigured
		e.Hint = fmt.Sprintf("check that the base URL %s is the API's root (the worker calls %s/api/operator...) and that no proxy rewrites the path",
			c.baseURL, c.baseURL)
	case code == http.StatusForbidden:
		e.Class = ErrMisconfigured
		e.Hint = fmt.Sprintf("a proxy, firewall or gateway in front of %s may be refusing the worker, or the token lacks access to the API: check what stands between them and the token's rights",
			c.baseURL.Host)
	case code >= 300 && code <= 399:
		// The client follows no redirect (see noRedirects).
		e.Class = ErrMisconfigured
		e.Hint = fmt.Sprintf("ChatHub answered with a redirect%s, which the worker does not follow so that the token goes nowhere but the base URL %s: set the base URL to where the API is",
			c.redirectTarget(resp), c.baseURL)
	case code == http.StatusTooManyRequests:
		e.Class = ErrThrottled
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
		hold := e.RetryAfter
		if hold <= 0 {
			hold = time.Second
		}
		c.limiter.HoldUntil(time.Now().Add(hold))
	case code == http.StatusBadGateway || code == http.StatusGatewayTimeout:
		// A gateway gave up waiting; ChatHub behind it may have acted.
		e.Class = ErrOutcomeUnknown
	case code == http.StatusNotImplemented:
		e.Class = ErrPermanent
	case code >= 500 || code == http.StatusRequestTimeout:
		e.Class = ErrTransient
		e.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	default:
		e.Class = ErrPermanent
	}
	return e
}

// message keeps a short, single-line form of ChatHub's error body, with the
// token taken out should ChatHub ever echo it.
func (c *Client) message(body []byte) string {
	// Taken out before the body is cut, so that no part of it is left at
	// the cut.
	if t := *c.token.Load(); len(t) >= minRedacted {
		body = bytes.ReplaceAll(body, []byte(t), []byte("[redacted]"))
	}
	if len(body) > maxErrorBody {
		body = body[:maxErrorBody]
	}
	// A JSON error body's own message reads better than the JSON.
	var structured struct {
		Message string `json:"message"`
		Title   string `json:"title"`
		Detail  string `json:"detail"`
	}
	if json.Unmarshal(body, &structured) == nil {
		if m := strings.TrimSpace(strings.Join([]string{structured.Title, structured.Message, structured.Detail}, " ")); m != "" {
			body = []byte(m)
		}
	}
	msg := strings.Join(strings.Fields(string(bytes.ToValidUTF8(body, []byte("?")))), " ")
	msg = c.redact(msg) // once more: JSON's escapes may have hidden it
	if r := []rune(msg); len(r) > maxMessage {
		msg = string(r[:maxMessage]) + "…"
	}
	return msg
}

// noRedirects returns a copy of hc that follows no redirect: the answer
// comes back as it is, and checkResponse calls it a misconfiguration.
// An http.Client follows redirects and sends the Authorization header
// along to the same host whatever the scheme, so an https base URL that
// redirects to http would put the token on the wire in clear. Following
// only "safe" redirects would still resend a synchronize elsewhere, or
// turn it into a GET (301, 302, 303); an operator would rather be told
// once that the base URL is not where the API is, and fix it.
func noRedirects(hc *http.Client) *http.Client {
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// redirectTarget names where a redirect points, without credentials,
// query or fragment (a signed URL's signature is one) or the token, or ""
// when it has no readable Location.
func (c *Client) redirectTarget(resp *http.Response) string {
	loc, err := resp.Location()
	if err != nil {
		return ""
	}
	loc.User, loc.RawQuery, loc.ForceQuery, loc.Fragment, loc.RawFragment = nil, "", false, "", ""
	s := c.redact(loc.String())
	if r := []rune(s); len(r) > maxMessage {
		s = string(r[:maxMessage]) + "…"
	}
	return " to " + s
}

// minRedacted is the shortest token taken out of what ChatHub says: one of
// a few characters (a simulator's "t") would be taken out of every word,
// and hides nothing.
const minRedacted = 6

// redact takes the token out of s.
func (c *Client) redact(s string) string {
	if t := *c.token.Load(); len(t) >= minRedacted {
		return strings.ReplaceAll(s, t, "[redacted]")
	}
	return s
}

// readCapped reads at most limit bytes, and fails if there is more.
func readCapped(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return data, fmt.Errorf("cannot read response: %w", err)
	}
	if int64(len(data)) > limit {
		return data[:limit], fmt.Errorf("response is larger than %d bytes", limit)
	}
	return data, nil
}

// streamer decodes a success body as it is read.
type streamer interface {
	decodeStream(r io.Reader) error
}

// progressReader tells each time bytes arrive.
type progressReader struct {
	r        io.Reader
	progress func()
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if n > 0 {
		p.progress()
	}
	return n, err
}

// errBroken marks a success answer that is not what the API documents.
var errBroken = errors.New("not the API's answer")

// brokenList classifies a list answer that could not be read: one cut
// short may come whole next time; one that is not an operator list at
// all (a web page, another API) says the base URL is wrong, and every
// call would get it again.
func brokenList(method, path string, status int, err error) *Error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	if errors.Is(err, errBroken) || errors.As(err, &syntax) || errors.As(err, &typ) {
		return &Error{Class: ErrMisconfigured, Method: method, Path: path, StatusCode: status,
			Err: fmt.Errorf("the answer is not an operator list: %w", err), Hint: "is CHATHUB_BASE_URL the API's base URL?"}
	}
	return &Error{Class: ErrTransient, Method: method, Path: path, StatusCode: status, Err: fmt.Errorf("cannot read the operator list: %w", err)}
}

// stripURL keeps the cause of a transport error but drops the *url.Error
// wrapper's URL, which is noise in every message.
func stripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseRetryAfter reads Retry-After as seconds or as an HTTP date; 0 when
// absent or unreadable.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 {
			return 0
		}
		return min(time.Duration(min(secs, int64(maxRetryAfter/time.Second)))*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}
