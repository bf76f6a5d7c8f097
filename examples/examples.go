// Package examples holds sample HR events, one per line, that the demo
// publishes: hires, a leave and return, a termination, a duplicate, a late
// event, a termination of someone never hired, two invalid messages, a
// hire into an organization ChatHub does not know and a transfer to
// another organization.
package examples

import (
	_ "embed"
)

// Events is events.jsonl.
//
//go:embed events.jsonl
var Events []byte
