package ir

import (
	"encoding/json"
	"time"
)

// Duration is a time.Duration that reads and prints as "5s" in the model's
// YAML, so that golden files stay readable.
type Duration time.Duration

// MarshalJSON prints the duration as Go spells it ("1m0s").
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads what MarshalJSON printed.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}
