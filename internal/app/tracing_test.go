package app_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/chathub-operator-worker/worker/internal/app"
	"github.com/chathub-operator-worker/worker/internal/await"
	"github.com/chathub-operator-worker/worker/internal/testenv"
)

// TestTracing: an event that carries a traceparent gets a result that
// continues its trace; the intake, the look and the ChatHub calls are
// spans of it or linked to it; an event without one gets a result
// without one.
func TestTracing(t *testing.T) {
	t.Parallel()
	h := testenv.New(t)
	exp := tracetest.NewInMemoryExporter()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exp))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	h.StartWithLog(h.Config(), zerolog.Nop(), app.WithTracerProvider(tp))

	const traceID, parentID = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	var body map[string]any
	_ = json.Unmarshal(hire(1, 24).Body(), &body)
	body["traceparent"] = "00-" + traceID + "-" + parentID + "-01"
	traced, _ := json.Marshal(body)
	h.Publish(traced, "hired", "hire-1")
	h.PublishEvent(hire(2, 24))
	results := testenv.ByEventID(t, h.WaitResults(2, 30*time.Second))

	tp1 := results["hire-1"].TraceParent
	if !strings.HasPrefix(tp1, "00-"+traceID+"-") || strings.Contains(tp1, parentID) {
		t.Errorf("result traceparent %q: want trace %s continued by a span of the worker", tp1, traceID)
	}
	if tp2 := results["hire-2"].TraceParent; tp2 != "" {
		t.Errorf("an event without traceparent got a result with %q", tp2)
	}
	// Spans end after the work they time: the intake's once its event is
	// queued, the look's once its record is saved.
	var spans tracetest.SpanStubs
	var intake tracetest.SpanStub
	byName := map[string][]tracetest.SpanStub{}
	await.True(t, 10*time.Second, func() bool {
		spans = exp.GetSpans()
		clear(byName)
		for _, s := range spans {
			byName[s.Name] = append(byName[s.Name], s)
		}
		for _, s := range byName["intake hired"] {
			if s.SpanContext.TraceID().String() == traceID {
				intake = s
			}
		}
		return intake.Name != "" && len(byName["look"]) > 0
	}, "the intake span of the traced event and a look's span")
	if intake.Parent.SpanID().String() != parentID {
		t.Fatalf("the intake span does not continue the event's trace; spans: %v", names(spans))
	}
	reconciled := false
	for _, s := range byName["reconcile hired"] {
		if s.SpanContext.TraceID().String() == traceID && s.Parent.SpanID() == intake.SpanContext.SpanID() &&
			strings.Contains(tp1, s.SpanContext.SpanID().String()) && len(s.Links) == 1 {
			reconciled = true
		}
	}
	if !reconciled {
		t.Errorf("no reconcile span is the intake span's child, linked to its look, with the result's span id; spans: %v", names(spans))
	}
	if len(byName["look"]) == 0 || len(byName["chathub synchronize"]) == 0 || len(byName["chathub list"]) == 0 {
		t.Errorf("looks and ChatHub calls are not traced; spans: %v", names(spans))
	}
	// The calls that make hires are spans of the batch that made them,
	// linked to the looks that asked for them.
	for _, s := range byName["chathub synchronize"] {
		if !s.Parent.IsValid() {
			t.Errorf("a ChatHub call outside its batch: %+v", s.Name)
		}
	}
	linked := false
	for _, s := range byName["chathub ensure"] {
		linked = linked || len(s.Links) > 0
	}
	if !linked {
		t.Errorf("no batch of hires is linked to the looks that asked for it; spans: %v", names(spans))
	}
}

func names(spans tracetest.SpanStubs) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name)
	}
	return out
}
