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
	// A flow with 8 ms gaps: quiet after four of them.
	at := t0.Add(time.Second)
	for range 10 {
		at = at.Add(8 * time.Millisecond)
		f.arrived(at, false)
	}
	if !f.arriving(at.Add(25 * time.Millisecond)) {
		t.Error("a flow with 8 ms gaps is quiet after 25 ms")
	}
	if _, flowing := f.flowing(at.Add(33 * time.Millisecond)); flowing {
		t.Error("a flow with 8 ms gaps still arriving after four gaps")
	}
	// A hiccup of 60 ms while the worker is busy: the flow goes on, and
	// waits out gaps as long again as the hiccup and a half.
	at = at.Add(60 * time.Millisecond)
	f.arrived(at, false)
	if _, flowing := f.flowing(at.Add(85 * time.Millisecond)); !flowing {
		t.Error("after a 60 ms hiccup, the flow is quiet within 85 ms")
	}
	// Events sent one at a time, each after the last one's result: no flow.
	for range 10 {
		at = at.Add(8 * time.Millisecond)
		f.arrived(at, true)
	}
	if f.arriving(at.Add(quiet)) {
		t.Error("events one at a time: still arriving after quiet")
	}
	// Batches far apart while the worker is busy make no flow.
	var g flow
	for i := range 5 {
		g.arrived(t0.Add(time.Duration(i)*150*time.Millisecond), false)
	}
	if _, flowing := g.flowing(t0.Add(4*150*time.Millisecond + quiet)); flowing {
		t.Error("batches 150 ms apart make a flow")
	}
}
