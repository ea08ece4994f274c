// Package k8s pins the Kubernetes server release the lab runs. It only exists so that
// `go build k8s.io/kubernetes/cmd/...` resolves every staging module to its published v0.X.Y.
package k8s
