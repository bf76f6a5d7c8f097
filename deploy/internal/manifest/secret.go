package manifest

import (
	"encoding/base64"
	"fmt"
	"regexp"
)

// SecretValues returns a Secret's values, its data decoded and its
// stringData, which wins as the API server has it.
func SecretValues(d Doc) (map[string]string, error) {
	values := map[string]string{}
	for k, v := range d.Data {
		raw, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return nil, fmt.Errorf("Secret %s: data %s is not base64: %w", d.Metadata.Name, k, err)
		}
		values[k] = string(raw)
	}
	for k, v := range d.StringData {
		values[k] = v
	}
	return values, nil
}

// placeholder matches values left for a person to replace.
var placeholder = regexp.MustCompile(`(?i)^\s*$|replace|change.?me|placeholder|example|todo|xxx|^<.*>$|your[-_ ]`)

// Placeholders lists the Secrets that hold a value left for a person to
// replace: applied, such a Secret overwrites the real one.
func Placeholders(docs []Doc) ([]string, error) {
	var found []string
	for _, d := range OfKind(docs, "Secret") {
		values, err := SecretValues(d)
		if err != nil {
			return nil, err
		}
		for k, v := range values {
			if placeholder.MatchString(v) {
				found = append(found, fmt.Sprintf("Secret %s key %s holds %q", d.Metadata.Name, k, v))
			}
		}
	}
	return found, nil
}
