package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Age is a retention: a Go duration (720h), a number of days (90d), or 0
// for forever.
type Age time.Duration

// UnmarshalText reads an Age.
func (a *Age) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(string(text))
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a number of days such as 90d", s)
		}
		*a = Age(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is not a retention such as 90d, 720h or 0 (forever)", s)
	}
	*a = Age(d)
	return nil
}

// Duration is the Age as a time.Duration; 0 means forever.
func (a Age) Duration() time.Duration { return time.Duration(a) }
