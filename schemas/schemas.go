// Package schemas holds the JSON Schemas of the HR events the worker reads
// and of the results it writes, embedded in the binary.
package schemas

import "embed"

// FS holds event.json (the envelope), data-hired.json and data-change.json
// (each kind's data), result.json and alert-guard.json (the guard's alert).
//
//go:embed *.json
var FS embed.FS
