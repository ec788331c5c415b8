package report

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestIntRows: rows written by intRows are the bytes encoding/json gives
// for the same rows, comma-separated, across the writes of its buffer.
func TestIntRows(t *testing.T) {
	tests := []struct {
		name string
		rows int
	}{
		{"none", 0},
		{"one", 1},
		{"a few", 7},
		{"many", 30000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, uint64(tt.rows)))
			num := func() int {
				switch rng.IntN(4) {
				case 0:
					return -1
				case 1:
					return rng.IntN(10)
				case 2:
					return rng.IntN(1 << 20)
				}
				return -rng.IntN(1 << 40)
			}
			var got bytes.Buffer
			r := intRows{w: &got}
			var want bytes.Buffer
			for i := range tt.rows {
				r.row()
				var row []any
				for range rng.IntN(40) {
					switch rng.IntN(3) {
					case 0, 1:
						n := num()
						r.int(n)
						row = append(row, n)
					default:
						list := []any{}
						r.open()
						for range rng.IntN(5) {
							inner := []int{}
							r.open()
							for range rng.IntN(4) {
								n := num()
								r.int(n)
								inner = append(inner, n)
							}
							r.close()
							list = append(list, inner)
						}
						r.close()
						row = append(row, list)
					}
				}
				r.close()
				if row == nil {
					row = []any{}
				}
				b, err := json.Marshal(row)
				if err != nil {
					t.Fatal(err)
				}
				if i > 0 {
					want.WriteByte(',')
				}
				want.Write(b)
			}
			if err := r.flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), want.Bytes()) {
				t.Fatalf("intRows differ from encoding/json:\n%s", firstDiff(want.String(), got.String()))
			}
		})
	}
}
