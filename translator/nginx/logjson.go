package nginx

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/rukou/rukou/translator/ir"
)

// Placeholders stand for the variables of a JSON log format while the
// format is read as JSON: characters of Unicode's private use area, which
// no format holds and JSON keeps as they are.
const (
	placeholderStart = "\uE000"
	placeholderEnd   = "\uE001"
)

// ParseLogJSON reads a log format that is a JSON object, as operators
// write log-format-upstream with log-format-escape-json: its members, with
// the variables in their values, so that the proxy escapes each value
// and every line stays valid JSON. A variable outside quotes ("status":
// $status) stands for the member's whole value. Members are sorted by
// key, as the proxy writes them; arrays are not read.
func ParseLogJSON(format string) ([]ir.LogMember, error) {
	fields, err := ParseLogFormat(format)
	if err != nil {
		return nil, err
	}
	var doc strings.Builder
	var values []ir.LogField
	inString, escaped := false, false
	for _, f := range fields {
		if f.Value != "" {
			mark := placeholderStart + strconv.Itoa(len(values)) + placeholderEnd
			if !inString {
				mark = `"` + mark + `"`
			}
			doc.WriteString(mark)
			values = append(values, f)
			continue
		}
		for i := 0; i < len(f.Text); i++ {
			switch c := f.Text[i]; {
			case escaped:
				escaped = false
			case c == '\\' && inString:
				escaped = true
			case c == '"':
				inString = !inString
			}
		}
		doc.WriteString(f.Text)
	}
	var obj map[string]any
	if err := json.Unmarshal([]byte(doc.String()), &obj); err != nil {
		return nil, fmt.Errorf("log format: not a JSON object once its variables are set: %w", err)
	}
	return logMembers(obj, values)
}

// logMembers turns a decoded JSON object back into members whose values
// hold the variables that the placeholders stand for.
func logMembers(obj map[string]any, values []ir.LogField) ([]ir.LogMember, error) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]ir.LogMember, 0, len(keys))
	for _, k := range keys {
		switch v := obj[k].(type) {
		case map[string]any:
			inner, err := logMembers(v, values)
			if err != nil {
				return nil, err
			}
			out = append(out, ir.LogMember{Key: k, Object: inner})
		case string:
			out = append(out, ir.LogMember{Key: k, Fields: placeholderFields(v, values)})
		case []any:
			return nil, fmt.Errorf("log format: the value of %q is an array, which rukou does not write", k)
		default:
			// A number, true, false or null written as such: printed as
			// text, which the proxy quotes.
			b, _ := json.Marshal(v)
			out = append(out, ir.LogMember{Key: k, Fields: []ir.LogField{{Text: string(b)}}})
		}
	}
	return out, nil
}

// placeholderFields splits a decoded string at its placeholders.
func placeholderFields(s string, values []ir.LogField) []ir.LogField {
	out := []ir.LogField{}
	for s != "" {
		i := strings.Index(s, placeholderStart)
		end := strings.Index(s, placeholderEnd)
		if i < 0 || end < i {
			out = append(out, ir.LogField{Text: s})
			break
		}
		if i > 0 {
			out = append(out, ir.LogField{Text: s[:i]})
		}
		n, err := strconv.Atoi(s[i+len(placeholderStart) : end])
		if err != nil || n >= len(values) {
			// The operator's own private-use characters: text.
			out = append(out, ir.LogField{Text: s[:end+len(placeholderEnd)]})
		} else {
			out = append(out, values[n])
		}
		s = s[end+len(placeholderEnd):]
	}
	return out
}
