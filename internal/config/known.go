package config

import (
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Known returns the names of the variables Config reads, taken from its
// env tags so that a new field is known as soon as it exists.
func Known() []string {
	var names []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, tagged := f.Tag.Lookup("env")
			name, _, _ := strings.Cut(tag, ",")
			switch {
			case name == "-":
			case name != "":
				names = append(names, prefix+name)
			case !tagged && f.Type.Kind() == reflect.Struct:
				// The env library reads untagged nested structs too.
				walk(f.Type, prefix+f.Tag.Get("envPrefix"))
			}
		}
	}
	walk(reflect.TypeFor[Config](), "")
	slices.Sort(names)
	return names
}

// Unknown is a variable that looks meant for the worker but that it does
// not read: it is ignored, which is rarely what was meant.
type Unknown struct {
	Name string
	// Suggestion is the known name closest to Name, when one is close.
	Suggestion string
}

// String says what is wrong, and what was probably meant.
func (u Unknown) String() string {
	s := u.Name + " is not a variable the worker reads (ignored)"
	if u.Suggestion != "" {
		s += "; did you mean " + u.Suggestion + "?"
	}
	return s
}

// kubernetesLink matches the variables Kubernetes sets in every pod for
// each service of its namespace (NATS_SERVICE_HOST, NATS_PORT_4222_TCP…):
// a service named nats or chathub-… would otherwise look like ours.
var kubernetesLink = regexp.MustCompile(`_(SERVICE_HOST|SERVICE_PORT(_[A-Z0-9_]+)?|PORT(_[0-9]+_(TCP|UDP|SCTP)(_(PROTO|PORT|ADDR))?)?)$`)

// Unknowns returns, sorted by name, the variables of environ (the process
// environment when nil) that look meant for the worker but that it does
// not read. Names are compared in capitals. A name is suspect when it starts with a prefix that two or
// more known names share (NATS_, CHATHUB_, BATCH_, GUARD_…), or when it is
// one or two edits from a known name whatever its prefix (LOG_LEVL). A
// prefix only one known name has (HTTP_ of HTTP_ADDR) is shared with
// other software (HTTP_PROXY) and is not enough on its own.
func Unknowns(environ map[string]string) []Unknown {
	if environ == nil {
		environ = map[string]string{}
		for _, kv := range os.Environ() {
			k, v, _ := strings.Cut(kv, "=")
			environ[k] = v
		}
	}
	known := Known()
	families := map[string]int{}
	for _, k := range known {
		families[prefix(k)]++
	}
	var out []Unknown
	for name := range environ {
		// Variables are case-sensitive: nats_url is not NATS_URL.
		upper := strings.ToUpper(name)
		if slices.Contains(known, name) || kubernetesLink.MatchString(upper) {
			continue
		}
		closest, d := nearest(upper, known)
		if d > 2 {
			closest = ""
		}
		if families[prefix(upper)] >= 2 || closest != "" {
			out = append(out, Unknown{Name: name, Suggestion: closest})
		}
	}
	slices.SortFunc(out, func(a, b Unknown) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// prefix is a name's first word and its underscore: NATS_ of NATS_URL.
func prefix(name string) string {
	if i := strings.IndexByte(name, '_'); i > 0 {
		return name[:i+1]
	}
	return ""
}

// nearest returns the known name fewest edits from name, and the edits.
func nearest(name string, known []string) (string, int) {
	best, bestD := "", -1
	for _, k := range known {
		if d := distance(name, k); bestD < 0 || d < bestD {
			best, bestD = k, d
		}
	}
	return best, bestD
}

// distance is the Levenshtein distance between a and b, in bytes (names
// of variables are ASCII).
func distance(a, b string) int {
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
