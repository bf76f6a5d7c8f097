package chathub

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// decodeInto decodes a JSON success body. ChatHub's bodies are documented
// as JSON arrays; an empty body decodes to the zero value.
func decodeInto(data []byte, v any) error {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return nil
	}
	if !utf8.Valid(data) {
		return errors.New("response is not valid UTF-8")
	}
	return json.Unmarshal(data, v)
}

// DecodeOperators decodes a list or synchronize response body.
func DecodeOperators(data []byte) ([]Operator, error) {
	var ops []Operator
	if err := decodeInto(data, &ops); err != nil {
		return nil, err
	}
	return ops, nil
}
