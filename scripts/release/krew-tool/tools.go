//go:build tools

// Package tools pins krew (sigs.k8s.io/krew) so that scripts/release can build `krew` and
// `validate-krew-manifest` from the Go module proxy with checksums from go.sum.
package tools

import (
	_ "sigs.k8s.io/krew/cmd/krew"
	_ "sigs.k8s.io/krew/cmd/validate-krew-manifest"
)
