// Package archtest holds the repository's structural tests: the table of
// which package may import which, checked against `go list -deps -test -json
// ./...` and against the README's package table, and the check that every
// cited fact section (§x.y) is a heading of docs/facts.md. It has no code of
// its own.
package archtest
