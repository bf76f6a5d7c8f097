package handlers

import (
	"testing"
	"time"
)

func TestFlow(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	var f flow
	f.arrived(t0, true)
	if !f.arriving(t0.Add(quiet - time.Millisecond)) {
		t.Error("a lone batch: quiet too soon")
	}
	if f.arriving(t0.Add(quiet)) {
		t.Error("a lone batch: still arriving after quiet")
	}
	// A flow with 8 ms gaps, then a hiccup of 25 ms: still one flow.
	at := t0.Add(time.Second)
	for range 10 {
		at = at.Add(8 * time.Millisecond)
		f.arrived(at, false)
	}
	if !f.arriving(at.Add(25 * time.Millisecond)) {
		t.Error("a flow with 8 ms gaps is quiet after 25 ms")
	}
	if f.arriving(at.Add(33 * time.Millisecond)) {
		t.Error("a flow with 8 ms gaps still arriving after four gaps")
	}
	// Events sent one at a time, each after the last one's result: no flow.
	for range 10 {
		at = at.Add(8 * time.Millisecond)
		f.arrived(at, true)
	}
	if f.arriving(at.Add(quiet)) {
		t.Error("events one at a time: still arriving after quiet")
	}
	// A batch after a pause longer than flowGap starts anew.
	at = at.Add(flowGap)
	f.arrived(at, false)
	if f.arriving(at.Add(quiet)) {
		t.Error("a batch after a pause: still arriving after quiet")
	}
}
