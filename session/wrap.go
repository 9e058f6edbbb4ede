package session

import "benchtop/kernels"

// BackendWrapper wraps a backend the session opened (Options.WrapBackend):
// a test's backend that holds a step in one op, say.
type BackendWrapper func(kernels.Backend) kernels.Backend
