package hrevent

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/chathub-operator-worker/worker/internal/opname"
	"github.com/chathub-operator-worker/worker/schemas"
)

// ErrInvalid is wrapped by every *InvalidError.
var ErrInvalid = errors.New("invalid event")

// InvalidError says why a message is not a valid HR event, in words a person
// can act on. Whatever could be read of the message is in Partial.
type InvalidError struct {
	Reason  string
	Partial Partial
}

// Partial is what could be read of an invalid message.
type Partial struct {
	ID             string
	Type           string
	EmployeeID     string
	OrganizationID int
	// TraceParent is the event's W3C traceparent (the CloudEvents
	// distributed-tracing extension), when it carries a valid one.
	TraceParent string
}

func (e *InvalidError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrInvalid) hold.
func (e *InvalidError) Unwrap() error { return ErrInvalid }

// Validator checks messages against the embedded schemas.
type Validator struct {
	envelope, hired, change, result, alert *jsonschema.Schema
}

// NewValidator compiles the embedded schemas.
func NewValidator() (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	load := func(name string) (*jsonschema.Schema, error) {
		raw, err := fs.ReadFile(schemas.FS, name)
		if err != nil {
			return nil, err
		}
		doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("cannot read schema %s: %w", name, err)
		}
		if err := c.AddResource(name, doc); err != nil {
			return nil, err
		}
		return c.Compile(name)
	}
	var v Validator
	var err error
	for name, dst := range map[string]**jsonschema.Schema{
		"event.json": &v.envelope, "data-hired.json": &v.hired, "data-change.json": &v.change, "result.json": &v.result,
		"alert-guard.json": &v.alert,
	} {
		if *dst, err = load(name); err != nil {
			return nil, fmt.Errorf("cannot compile schema %s: %w", name, err)
		}
	}
	return &v, nil
}

// ValidateResult checks a result event against schemas/result.json.
func (v *Validator) ValidateResult(body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("result is not JSON: %w", err)
	}
	if err := v.result.Validate(doc); err != nil {
		return fmt.Errorf("result does not match schemas/result.json: %s", describe(err, ""))
	}
	return nil
}

// ValidateAlert checks an alert against schemas/alert-guard.json.
func (v *Validator) ValidateAlert(body []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("alert is not JSON: %w", err)
	}
	if err := v.alert.Validate(doc); err != nil {
		return fmt.Errorf("alert does not match schemas/alert-guard.json: %s", describe(err, ""))
	}
	return nil
}

// Parse reads and validates one message body. An invalid body gives an
// *InvalidError. The body is decoded once; the fields are read from the
// document the schemas validated.
func (v *Validator) Parse(body []byte) (Event, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return Event{}, &InvalidError{Reason: "the message body is empty; send a CloudEvents 1.0 JSON event"}
	}
	if !utf8.Valid(body) {
		return Event{}, &InvalidError{Reason: "the message body is not valid UTF-8; encode the event as UTF-8 JSON"}
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
	if err != nil {
		return Event{}, &InvalidError{Reason: "the message body is not JSON (" + shorten(err.Error()) + "); send a CloudEvents 1.0 JSON event"}
	}
	partial, cut := readPartial(doc)
	invalid := func(reason string) (Event, error) {
		return Event{}, &InvalidError{Reason: reason + cutNote(cut), Partial: partial}
	}
	if err := v.envelope.Validate(doc); err != nil {
		return invalid("the event does not match schemas/event.json: " + describe(err, ""))
	}
	// The schema vouches for the shape from here on.
	top := doc.(map[string]any)
	data := top["data"].(map[string]any)
	kind := KindOfType(partial.Type)
	dataSchema := v.change
	if kind == Hired {
		dataSchema = v.hired
	}
	if err := dataSchema.Validate(data); err != nil {
		return invalid("the event's data does not match " + dataSchemaName(kind) + ": " + describe(err, "/data"))
	}
	rawTime := top["time"].(string)
	at, err := time.Parse(time.RFC3339Nano, rawTime)
	if err != nil {
		return invalid(fmt.Sprintf("at /time: %q is not an RFC 3339 timestamp such as 2026-11-23T09:00:00Z", Clip(rawTime)))
	}
	e := Event{
		ID: partial.ID, Source: top["source"].(string), Type: partial.Type, Kind: kind, Time: at,
		EmployeeID: data["employeeId"].(string), OrganizationID: partial.OrganizationID, TraceParent: partial.TraceParent,
	}
	if name, ok := data["name"].(string); ok {
		e.Name = opname.Normalize(name)
		if reason := opname.Check(e.Name); reason != "" {
			return invalid("at /data/name: the name " + reason + " (after trimming white space); ChatHub takes 1 to 100 characters")
		}
	}
	return e, nil
}

// readPartial takes what it can from the decoded document, so that even a
// rejected event's result names its id, type and employee. One wrongly
// typed field hides nothing else. A type or employee id longer than
// MaxField is cut to it, so that what is echoed of an invalid event stays
// small; cut names the fields it cut.
func readPartial(doc any) (p Partial, cut []string) {
	top, ok := doc.(map[string]any)
	if !ok {
		return p, nil
	}
	// An id the contract does not allow cannot name the result either: a
	// cut one could name two events.
	if id, _ := top["id"].(string); utf8.RuneCountInString(id) <= 256 {
		p.ID = id
	}
	clip := func(dst *string, v any, name string) {
		s, _ := v.(string)
		if c, ok := cutUTF8(s, MaxField); ok {
			s, cut = c, append(cut, name)
		}
		*dst = s
	}
	clip(&p.Type, top["type"], "type")
	// A traceparent that is not one is ignored: tracing never rejects an
	// HR event.
	if tp, _ := top["traceparent"].(string); ValidTraceParent(tp) {
		p.TraceParent = tp
	}
	data, _ := top["data"].(map[string]any)
	clip(&p.EmployeeID, data["employeeId"], "employeeId")
	if n, ok := data["organizationId"].(json.Number); ok {
		if f, err := strconv.ParseFloat(string(n), 64); err == nil && f == float64(int(f)) && f > 0 && f <= 1<<31-1 {
			p.OrganizationID = int(f)
		}
	}
	return p, cut
}

// describe turns a schema validation error into at most three short
// sentences naming the fields, e.g. "at /data/name: missing property".
func describe(err error, prefix string) string {
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return shorten(err.Error())
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := prefix + "/" + strings.Join(e.InstanceLocation, "/")
			if loc == "/" {
				loc = "the top level"
			}
			// Each of three problems gets its share, whatever a value or
			// a property name quoted in it holds.
			leaf := shortenTo("at "+strings.TrimSuffix(loc, "/")+": "+e.ErrorKind.LocalizedString(printer), MaxField/3)
			leaves = append(leaves, leaf)
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	sort.Strings(leaves)
	if len(leaves) > 3 {
		leaves = append(leaves[:3], fmt.Sprintf("and %d more", len(leaves)-3))
	}
	return shorten(strings.Join(leaves, "; "))
}

func dataSchemaName(k Kind) string {
	if k == Hired {
		return "schemas/data-hired.json"
	}
	return "schemas/data-change.json"
}

var traceParent = regexp.MustCompile(`^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)

// ValidTraceParent says whether s is a W3C traceparent that can be
// continued: the format, a version other than ff, a trace and a parent id
// other than zero.
func ValidTraceParent(s string) bool {
	return traceParent.MatchString(s) && s[:2] != "ff" && s[3:35] != strings.Repeat("0", 32) && s[36:52] != strings.Repeat("0", 16)
}
