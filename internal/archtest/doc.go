// Package archtest holds the architecture test: the table of which package
// may import which, checked against `go list -deps -test -json ./...` and
// against the package table of the README. It has no code of its own.
package archtest
