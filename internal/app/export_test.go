package app

// Kill drops the worker's NATS connection without draining: no ack, result
// or KV write gets out after it, as if the process had died.
func (w *Worker) Kill() { w.nc.Close() }
