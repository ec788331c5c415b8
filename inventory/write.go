package inventory

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Write writes the inventory as a snapshot file's JSON: the bytes of
// json.Encoder with two-space indentation (MarshalJSON's shared form),
// produced one account at a time, so that writing a snapshot holds one
// account's encoding at a time instead of the whole file twice (compact,
// then indented).
func Write(w io.Writer, inv *Inventory) error {
	shared, accounts := inv.sharedForm()
	return write(w, inv, shared, accounts != nil, func(visit func(*Account) error) error {
		for _, a := range accounts {
			if err := visit(a); err != nil {
				return err
			}
		}
		return nil
	})
}

// WriteEach writes the snapshot of an inventory whose accounts are handed
// over one at a time, in order, by each (a live scan's accounts read back
// from its spool): head gives everything else, and its AWSManagedPolicies
// must list every AWS managed policy version the accounts share (as a
// scan's inventory does). Each account's entries equal to a shared one
// are written as references, so the bytes are Write's for the inventory
// with those accounts. An error of each ends the writing and is returned.
func WriteEach(w io.Writer, head *Inventory, each func(visit func(*Account) error) error) error {
	var list []*ManagedPolicy
	shared := map[policyKey]*ManagedPolicy{}
	for _, p := range head.AWSManagedPolicies {
		if p == nil || !p.AWSManaged || p.Shared || strings.TrimSpace(p.Document) == "" || shared[keyOf(p)] != nil {
			continue
		}
		shared[keyOf(p)] = p
		list = append(list, p)
	}
	if len(list) == 0 {
		list = head.AWSManagedPolicies
	} else {
		sortShared(list)
	}
	return write(w, head, list, true, func(visit func(*Account) error) error {
		return each(func(a *Account) error { return visit(sharedAccount(a, shared)) })
	})
}

// write writes the header of inv with awsManagedPolicies shared and the
// accounts each hands over ("accounts": null when listed is false).
func write(w io.Writer, inv *Inventory, shared []*ManagedPolicy, listed bool, each func(visit func(*Account) error) error) error {
	type plain Inventory
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
	if !listed {
		bw.WriteString("null")
	} else {
		n := 0
		err := each(func(a *Account) error {
			if n == 0 {
				bw.WriteString("[\n    ")
			} else {
				bw.WriteString(",\n    ")
			}
			n++
			ab, err := json.MarshalIndent(a, "    ", "  ")
			if err != nil {
				return err
			}
			_, err = bw.Write(ab)
			return err
		})
		if err != nil {
			return err
		}
		if n == 0 {
			bw.WriteString("[]")
		} else {
			bw.WriteString("\n  ]")
		}
	}
	bw.Write(hb[at+len(slot):])
	bw.WriteByte('\n')
	return bw.Flush()
}
