package hrevent

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxField is the most of one field of an event that a result echoes: its
// eventId, eventType, employeeId, the envelope's subject, and any value
// quoted into the reason. A valid event's id and employeeId have at most
// 256 characters, which is at most 1 KiB in UTF-8, so only the fields of
// an invalid event are ever cut.
const MaxField = 1 << 10

// maxReason bounds a result's reason as a whole: it may quote a field of
// the event and carry ChatHub's own message.
const maxReason = 4 << 10

// MaxResultSize bounds an encoded result. NATS refuses a message larger
// than its max_payload (1 MiB by default), and a result that cannot be
// published would be retried for ever. The worst case stays under it: the
// echoed body is cut to 64 KiB, which JSON escapes to at most six bytes a
// byte (384 KiB), and the other echoed fields (the id twice, the type, the
// employee id twice, the reason: 10 KiB) escape to at most 60 KiB more.
const MaxResultSize = 512 << 10

// maxLog bounds a field of an event in a log line.
const maxLog = 200

// Clip bounds a field of an event for a log line: at most a couple of
// hundred bytes, cut on a character boundary, with how long it was when
// it was cut. A log line must never echo an unbounded field of an event:
// a 500 KB employee id would otherwise be written at every redelivery.
func Clip(s string) string {
	c, cut := cutUTF8(s, maxLog)
	if !cut {
		return s
	}
	return fmt.Sprintf("%s… (%d bytes)", c, len(s))
}

// cutUTF8 cuts s to at most n bytes without splitting a character, and
// says whether it cut.
func cutUTF8(s string, n int) (string, bool) {
	if len(s) <= n {
		return s, false
	}
	i := n
	// Back up to the start of the character the cut runs through; invalid
	// bytes have no start, so the walk stops after a character's length.
	for back := 0; back < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(s[i]); back++ {
		i--
	}
	return s[:i], true
}

// shorten caps what a reason quotes at MaxField bytes.
func shorten(s string) string { return shortenTo(s, MaxField) }

// shortenTo cuts s to at most n bytes, "…" included, on a character
// boundary.
func shortenTo(s string, n int) string {
	if c, cut := cutUTF8(s, n-len("…")); cut {
		return c + "…"
	}
	return s
}

// cutNote says which of the event's fields were cut where the result
// echoes them, for the result's reason; "" when none was.
func cutNote(fields []string) string {
	if len(fields) == 0 {
		return ""
	}
	return " (cut to 1 KiB here: the event's " + strings.Join(fields, " and ") + ")"
}
