package app

import (
	"github.com/KimMachineGun/automemlimit/memlimit"
	"github.com/rs/zerolog"
)

// DefaultMemoryLimit is the memory the worker aims to stay within when
// neither GOMEMLIMIT nor a container limit says otherwise: its working
// set does not grow with the employees on record (docs/performance.md).
const DefaultMemoryLimit = 48 << 20

// LimitMemory sets Go's soft memory limit to 90 % of the container's
// (cgroup) limit, or of DefaultMemoryLimit without one, so that the
// collector works harder before the kernel would kill the pod. A
// GOMEMLIMIT in the environment wins; AUTOMEMLIMIT=off leaves it alone.
func LimitMemory(log zerolog.Logger) {
	limit, err := memlimit.Set(memlimit.WithRatio(0.9),
		memlimit.WithProvider(memlimit.ApplyFallback(memlimit.FromCgroup, memlimit.Limit(DefaultMemoryLimit))))
	if err != nil {
		log.Warn().Err(err).Msg("cannot set Go's memory limit")
		return
	}
	log.Info().Int64("gomemlimit_bytes", limit).Msg("memory limit")
}
