package scanner

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// maxPages guards every paged listing against an endpoint that never stops
// (each page costs at least one call, so this is generous).
const maxPages = 10000

// listing names one paged List call for paginate.
type listing struct {
	w        where
	b        *bucket
	svc, op  string
	resource string
	// start is the token to continue from (nil: the first page).
	start *string
	// maxPages bounds the pages read (0: maxPages).
	maxPages int
	// quiet returns failures without recording them, for the caller to
	// record or to fall back on another way of collecting the same thing.
	quiet bool
}

// paginate is the scanner's one pagination loop. It follows the next token
// from l.start until a page comes without one (a page may be empty and
// still carry a token) and returns every item; onPage, when set, sees each
// page as it arrives.
//
// The error is nil only for a complete list. A list cut short — a failed
// call on any page, a token that came back a second time, more than
// maxPages pages — returns what was read so far together with an error,
// which is recorded as a collection error (unless l.quiet), so that a
// truncated list is never taken for a complete one.
//
// fetch makes one call and returns its items and next token; it may return
// a *scanError (e.g. "truncated without a marker"), which counts as a
// failed call.
func paginate[T any](ctx context.Context, c *collector, l listing, onPage func([]T),
	fetch func(ctx context.Context, token *string) ([]T, *string, error)) ([]T, error) {
	limit := l.maxPages
	if limit <= 0 {
		limit = maxPages
	}
	var all []T
	token := l.start
	seen := map[string]bool{}
	if token != nil {
		seen[*token] = true
	}
	for page := 0; ; page++ {
		if page == limit {
			return all, c.cutShort(ctx, l, newScanError(CodePagination,
				"the list did not end within %d pages; the %d items read are not the whole list", limit, len(all)))
		}
		type result struct {
			items []T
			next  *string
		}
		r, err := invoke(ctx, c, l.w, l.b, l.svc, l.op, func(ctx context.Context) (result, error) {
			items, next, err := fetch(ctx, token)
			return result{items, next}, err
		})
		if err != nil {
			return all, c.cutShort(ctx, l, err)
		}
		all = append(all, r.items...)
		if onPage != nil {
			onPage(r.items)
		}
		next := aws.ToString(r.next)
		if next == "" {
			return all, nil
		}
		if seen[next] {
			return all, c.cutShort(ctx, l, newScanError(CodePagination,
				"a page token came back a second time after %d pages; the %d items read are not the whole list", page+1, len(all)))
		}
		seen[next] = true
		token = &next
	}
}

// cutShort records (unless quiet) and returns the error that ended a
// listing early.
func (c *collector) cutShort(ctx context.Context, l listing, err error) error {
	if !l.quiet {
		c.record(ctx, l.w, l.svc, l.op, l.resource, err)
	}
	return err
}
