// Package schemas holds the JSON Schemas of the HR events the worker reads
// and of the results it writes, embedded in the binary.
package schemas

import "embed"

// FS holds event.json (the envelope), data-hired.json and data-change.json
// (each kind's data) and result.json.
//
//go:embed *.json
var FS embed.FS
