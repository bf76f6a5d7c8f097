package cli

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/chathub-operator-worker/worker/internal/hrevent"
)

// csvHeader is the header a CSV file of events starts with.
const csvHeader = "employeeId,organizationId,name,kind,time"

// line is one event read from a file.
type line struct {
	no   int
	body []byte
	ev   hrevent.Event
	err  error
}

// input is a file of events as publish and plan take it, validated.
type input struct {
	lines, valid, invalid []line
	allowInvalid, asJSON  bool
}

// readInput parses the flags publish and plan share (-source,
// -allow-invalid, -json) and the one FILE argument, and reads and
// validates the file.
func readInput(spec Spec, args []string, env Env, jsonHelp string) (*input, error) {
	fs := spec.Flags(env)
	source := fs.String("source", "hr/csv-import", "CloudEvents source of events made from CSV rows")
	in := &input{}
	fs.BoolVar(&in.allowInvalid, "allow-invalid", false, "exit 0 even when some lines are invalid (they are never published)")
	fs.BoolVar(&in.asJSON, "json", false, jsonHelp)
	files, err := spec.Parse(fs, args)
	if err != nil {
		return nil, err
	}
	if err := Args(files, "FILE"); err != nil {
		return nil, err
	}
	if in.lines, err = readFile(files[0], *source, env); err != nil {
		return nil, err
	}
	in.valid, in.invalid = validate(in.lines)
	return in, nil
}

// readFile reads the events of path, or of standard input for "-".
func readFile(path, source string, env Env) ([]line, error) {
	var raw []byte
	var err error
	if path == "-" {
		if env.Stdin == nil {
			return nil, errors.New("no standard input to read")
		}
		raw, err = io.ReadAll(env.Stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, errors.Unwrap(err))
	}
	return readEvents(raw, strings.EqualFold(filepath.Ext(path), ".csv"), source)
}

// validate checks every line against the schemas.
func validate(lines []line) (valid, invalid []line) {
	validator, err := hrevent.NewValidator()
	for _, l := range lines {
		if l.err == nil {
			if err != nil {
				l.err = err
			} else {
				l.ev, l.err = validator.Parse(l.body)
			}
		}
		if l.err != nil {
			invalid = append(invalid, l)
			continue
		}
		valid = append(valid, l)
	}
	return valid, invalid
}

// readEvents splits a file into event bodies: JSON lines as they are, CSV
// rows turned into CloudEvents.
func readEvents(raw []byte, isCSV bool, source string) ([]line, error) {
	trimmed := bytes.TrimSpace(raw)
	if isCSV || bytes.HasPrefix(trimmed, []byte(csvHeader)) {
		return readCSV(raw, source)
	}
	var lines []line
	for i, l := range bytes.Split(raw, []byte("\n")) {
		if l = bytes.TrimSpace(l); len(l) > 0 {
			lines = append(lines, line{no: i + 1, body: l})
		}
	}
	return lines, nil
}

func readCSV(raw []byte, source string) ([]line, error) {
	r := csv.NewReader(bytes.NewReader(raw))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, fmt.Errorf("cannot read the CSV header: %w", err)
	}
	if strings.Join(header, ",") != csvHeader {
		return nil, fmt.Errorf("the CSV header is %q; want %s", strings.Join(header, ","), csvHeader)
	}
	var lines []line
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return lines, nil
		}
		no, _ := r.FieldPos(0)
		if err != nil {
			lines = append(lines, line{no: no, err: fmt.Errorf("not CSV: %w", err)})
			continue
		}
		body, err := csvEvent(rec, source)
		lines = append(lines, line{no: no, body: body, err: err})
	}
}

// csvEvent turns employeeId,organizationId,name,kind,time into a CloudEvent
// whose id is a hash of the row.
func csvEvent(rec []string, source string) ([]byte, error) {
	if len(rec) != 5 {
		return nil, fmt.Errorf("%d fields; want 5: %s", len(rec), csvHeader)
	}
	org, err := strconv.Atoi(strings.TrimSpace(rec[1]))
	if err != nil {
		return nil, fmt.Errorf("organizationId %q is not a whole number", rec[1])
	}
	kind := strings.TrimSpace(rec[3])
	if hrevent.KindOfType(hrevent.TypeOf(hrevent.Kind(kind))) == "" {
		return nil, fmt.Errorf("kind %q is not one of hired, leave_started, leave_ended, terminated, transferred", kind)
	}
	at := strings.TrimSpace(rec[4])
	if _, err := time.Parse(time.RFC3339Nano, at); err != nil {
		return nil, fmt.Errorf("time %q is not an RFC 3339 timestamp such as 2026-11-23T09:00:00Z", at)
	}
	sum := sha256.Sum256([]byte(strings.Join(rec, "\x1f")))
	data := map[string]any{"employeeId": rec[0], "organizationId": org}
	if rec[2] != "" {
		data["name"] = rec[2]
	}
	return json.Marshal(map[string]any{
		"specversion": "1.0", "id": "csv-" + hex.EncodeToString(sum[:12]), "source": source,
		"type": hrevent.TypeOf(hrevent.Kind(kind)), "time": at, "datacontenttype": "application/json", "data": data,
	})
}
