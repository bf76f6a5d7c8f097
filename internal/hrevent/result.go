package hrevent

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Outcome is the final word on one event.
type Outcome string

// The four outcomes an event can have.
const (
	Applied  Outcome = "applied"
	Skipped  Outcome = "skipped"
	Rejected Outcome = "rejected"
	Failed   Outcome = "failed"
)

// ResultType is the CloudEvents type of a result.
const ResultType = "hr.operator.result"

// maxEcho is how much of an event body a result carries at most.
const maxEcho = 64 << 10

// Result is the data of one result event.
type Result struct {
	EventID        string  `json:"eventId"`
	EventType      string  `json:"eventType"`
	EmployeeID     string  `json:"employeeId,omitempty"`
	OrganizationID int     `json:"organizationId,omitempty"`
	Outcome        Outcome `json:"outcome"`
	Reason         string  `json:"reason,omitempty"`
	OperatorID     int64   `json:"operatorId,omitempty"`
	OperatorStatus *int    `json:"operatorStatus,omitempty"`
	Attempts       int     `json:"attempts"`
	StreamSequence uint64  `json:"streamSequence"`
	Event          *string `json:"event,omitempty"`
	EventBase64    string  `json:"eventBase64,omitempty"`
	EventTruncated bool    `json:"eventTruncated,omitempty"`
	// TraceParent continues the event's trace; it goes in the envelope,
	// as the CloudEvents distributed-tracing extension.
	TraceParent string `json:"-"`
	// Repeat: the input message repeats an event id taken before from
	// another message (see MsgID).
	Repeat bool `json:"-"`
}

// Subject is where the result is published: hr.results.<outcome>.<kind>.
func (r *Result) Subject(prefix string) string {
	kind := string(KindOfType(r.EventType))
	if kind == "" {
		kind = "unknown"
	}
	return fmt.Sprintf("%s.%s.%s", prefix, r.Outcome, kind)
}

// MsgID is the result's Nats-Msg-Id, by which HR_RESULTS keeps one result
// per input message: result:<event id> for the first message of an event;
// result@<stream sequence>:<event id> for a later message with the same
// id (a duplicate, or a replay after a failure), so that its result is
// kept too; result:seq:<stream sequence> when the id could not be read or
// is too long to echo whole (a cut id could name two events).
func (r *Result) MsgID() string {
	switch {
	case r.EventID == "" || len(r.EventID) > MaxField:
		return fmt.Sprintf("result:seq:%d", r.StreamSequence)
	case r.Repeat:
		return fmt.Sprintf("result@%d:%s", r.StreamSequence, r.EventID)
	}
	return "result:" + r.EventID
}

// Echo puts the original message body in the result, so that it can be
// fixed and replayed: as a string when it is valid UTF-8, else in base64,
// and cut to its first 64 KiB when larger.
func (r *Result) Echo(body []byte) {
	if len(body) > maxEcho {
		cut := maxEcho
		if utf8.Valid(body) {
			// Do not split the character that the cut runs through.
			for cut > 0 && !utf8.RuneStart(body[cut]) {
				cut--
			}
		}
		body = body[:cut]
		r.EventTruncated = true
	}
	if utf8.Valid(body) {
		s := string(body)
		r.Event = &s
		return
	}
	r.EventBase64 = base64.StdEncoding.EncodeToString(body)
}

// SetOperator records the operator and its status after the event.
func (r *Result) SetOperator(id int64, status int) {
	if id == 0 {
		return
	}
	r.OperatorID = id
	r.OperatorStatus = &status
}

// envelope is the CloudEvents 1.0 envelope of what the worker publishes.
type envelope[T any] struct {
	SpecVersion     string `json:"specversion"`
	ID              string `json:"id"`
	Source          string `json:"source"`
	Type            string `json:"type"`
	Time            string `json:"time"`
	DataContentType string `json:"datacontenttype"`
	Subject         string `json:"subject,omitempty"`
	TraceParent     string `json:"traceparent,omitempty"`
	Data            T      `json:"data"`
}

// Source is the CloudEvents source of every result and alert.
const Source = "chathub-operator-worker"

// marshalEvent encodes data as a CloudEvents 1.0 event of the worker.
func marshalEvent[T any](id, typ, subject, traceParent string, now time.Time, data T) ([]byte, error) {
	return json.Marshal(envelope[T]{SpecVersion: "1.0", ID: id, Source: Source, Type: typ,
		Time: now.UTC().Format(time.RFC3339Nano), DataContentType: "application/json",
		Subject: subject, TraceParent: traceParent, Data: data})
}

// Marshal encodes the result as a CloudEvents 1.0 event of at most
// MaxResultSize bytes, whatever its caller put in it: echoed fields longer
// than MaxField, and a reason longer than 4 KiB, are cut in what is
// encoded (the result itself is left as it is), and the reason says so.
func (r *Result) Marshal(now time.Time) ([]byte, error) {
	b := r.bounded()
	return marshalEvent(r.MsgID(), ResultType, b.EmployeeID, b.TraceParent, now, &b)
}

// bounded is a copy of r whose fields fit the result's size bound.
func (r *Result) bounded() Result {
	b := *r
	var cut []string
	for _, f := range []struct {
		name string
		s    *string
	}{{"id", &b.EventID}, {"type", &b.EventType}, {"employeeId", &b.EmployeeID}} {
		if c, ok := cutUTF8(*f.s, MaxField); ok {
			*f.s, cut = c, append(cut, f.name)
		}
	}
	b.Reason = strings.TrimSpace(shortenTo(b.Reason, maxReason) + cutNote(cut))
	if b.Event != nil && len(*b.Event) > maxEcho {
		// Only Echo should set it, and Echo cuts it already.
		b.Echo([]byte(*b.Event))
	}
	if len(b.EventBase64) > base64.StdEncoding.EncodedLen(maxEcho) {
		b.EventBase64, b.EventTruncated = b.EventBase64[:base64.StdEncoding.EncodedLen(maxEcho)], true
	}
	return b
}

// DecodeResult reads a result event's data.
func DecodeResult(body []byte) (Result, error) {
	var ce struct {
		TraceParent string `json:"traceparent"`
		Data        Result `json:"data"`
	}
	if err := json.Unmarshal(body, &ce); err != nil {
		return Result{}, fmt.Errorf("cannot decode result: %w", err)
	}
	ce.Data.TraceParent = ce.TraceParent
	return ce.Data, nil
}

// Summary renders the result for people: one line, and the reason on a
// second when there is one.
func (r *Result) Summary() string {
	op := ""
	if r.OperatorID != 0 && r.OperatorStatus != nil {
		op = fmt.Sprintf(" operator %d (%s)", r.OperatorID, statusNames[min(max(*r.OperatorStatus, 0), 3)])
	}
	line := fmt.Sprintf("%-8s %-14s %-16s employee %-7s org %-3d%s  [seq %d, attempt %d]",
		r.Outcome, OrDash(string(KindOfType(r.EventType))), OrDash(r.EventID), OrDash(r.EmployeeID),
		r.OrganizationID, op, r.StreamSequence, r.Attempts)
	if r.Reason != "" {
		line += "\n     reason: " + r.Reason
	}
	return line
}

// statusNames name ChatHub's operator statuses 0, 1 and 2.
var statusNames = [...]string{"active", "inactive", "deleted", "unknown"}

// StatusName names an operator status.
func StatusName(status int) string { return statusNames[min(max(status, 0), 3)] }

// OrDash returns s, or "-" when it is empty.
func OrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
