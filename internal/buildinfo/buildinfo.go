// Package buildinfo says which build of the worker runs: its version,
// commit and date (set with -ldflags -X at build time, or read from the Go
// toolchain's version control stamp), and the Go and nats.go versions.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set with -ldflags "-X github.com/chathub-operator-worker/worker/internal/buildinfo.Version=...".
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Info is the build of the running binary.
type Info struct {
	Version, Commit, Date, Go, NATS string
}

// Read returns the build of the running binary.
func Read() Info {
	i := Info{Version: Version, Commit: Commit, Date: Date, Go: runtime.Version(), NATS: "unknown"}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch {
			case s.Key == "vcs.revision" && i.Commit == "":
				i.Commit = s.Value
			case s.Key == "vcs.time" && i.Date == "":
				i.Date = s.Value
			}
		}
		for _, d := range bi.Deps {
			if d.Path == "github.com/nats-io/nats.go" {
				i.NATS = d.Version
			}
		}
	}
	if i.Commit == "" {
		i.Commit = "unknown"
	}
	if i.Date == "" {
		i.Date = "unknown"
	}
	return i
}

func (i Info) String() string {
	return fmt.Sprintf("worker %s (commit %s, built %s) with %s and nats.go %s", i.Version, i.Commit, i.Date, i.Go, i.NATS)
}
