package demo

//go:generate go run ./gen -out ../../testdata/demo/snapshot.json
