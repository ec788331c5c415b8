package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
)

// Write writes the inventory as a snapshot file's JSON: the bytes of
// json.Encoder with two-space indentation (MarshalJSON's shared form),
// produced one account at a time, so that writing a snapshot holds one
// account's encoding at a time instead of the whole file twice (compact,
// then indented).
func Write(w io.Writer, inv *Inventory) error {
	type plain Inventory
	shared, accounts := inv.sharedForm()
	head := plain(*inv)
	head.AWSManagedPolicies, head.Accounts = shared, nil
	hb, err := json.MarshalIndent(head, "", "  ")
	if err != nil {
		return err
	}
	// The accounts go where the header says "accounts": null, a line of
	// its own at the first level (a string cannot hold a raw newline).
	const slot = "\n  \"accounts\": null"
	at := bytes.Index(hb, []byte(slot))
	if at < 0 {
		return fmt.Errorf("inventory: the snapshot header has no accounts field")
	}
	bw := bufio.NewWriterSize(w, 256<<10)
	bw.Write(hb[:at])
	bw.WriteString("\n  \"accounts\": ")
	switch {
	case accounts == nil:
		bw.WriteString("null")
	case len(accounts) == 0:
		bw.WriteString("[]")
	default:
		bw.WriteString("[\n    ")
		for i, a := range accounts {
			if i > 0 {
				bw.WriteString(",\n    ")
			}
			ab, err := json.MarshalIndent(a, "    ", "  ")
			if err != nil {
				return err
			}
			bw.Write(ab)
		}
		bw.WriteString("\n  ]")
	}
	bw.Write(hb[at+len(slot):])
	bw.WriteByte('\n')
	return bw.Flush()
}
