package scanner

import (
	"context"
	"log/slog"
	"slices"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// testCollector is a collector with no backend, for the helpers.
func testCollector() *collector {
	cfg, err := Config{unlimited: true}.normalize()
	if err != nil {
		panic(err)
	}
	st := &stats{}
	return &collector{cfg: cfg, log: slog.New(slog.DiscardHandler), stats: st, progress: newProgress(nil, st)}
}

// pageStep is one scripted answer: the items, the next token or an error.
type pageStep struct {
	items []int
	next  string
	err   error
}

func TestPaginate(t *testing.T) {
	denied := apiErr("AccessDeniedException", "no")
	tests := []struct {
		name     string
		steps    []pageStep // step i answers the i-th call
		maxPages int
		start    *string
		quiet    bool
		want     []int
		wantErr  string // the code of the returned error; "" for a complete list
		recorded bool   // the error is recorded
	}{
		{name: "one page", steps: []pageStep{{items: []int{1, 2}}}, want: []int{1, 2}},
		{name: "three pages", steps: []pageStep{{items: []int{1}, next: "a"}, {items: []int{2}, next: "b"}, {items: []int{3}}}, want: []int{1, 2, 3}},
		{name: "empty pages with a token are followed", steps: []pageStep{{next: "a"}, {next: "b"}, {items: []int{1}, next: "c"}, {}}, want: []int{1}},
		{name: "empty list", steps: []pageStep{{}}, want: nil},
		{name: "continues from a start token", start: aws.String("s"), steps: []pageStep{{items: []int{5}, next: "a"}, {items: []int{6}}}, want: []int{5, 6}},
		{
			name:  "page cap reached is an error, not a complete list",
			steps: []pageStep{{items: []int{1}, next: "a"}, {items: []int{2}, next: "b"}, {items: []int{3}, next: "c"}}, maxPages: 2,
			want: []int{1, 2}, wantErr: CodePagination, recorded: true,
		},
		{
			name:  "the same token twice in a row",
			steps: []pageStep{{items: []int{1}, next: "a"}, {items: []int{2}, next: "a"}},
			want:  []int{1, 2}, wantErr: CodePagination, recorded: true,
		},
		{
			name:  "a token cycle",
			steps: []pageStep{{items: []int{1}, next: "a"}, {items: []int{2}, next: "b"}, {items: []int{3}, next: "a"}},
			want:  []int{1, 2, 3}, wantErr: CodePagination, recorded: true,
		},
		{
			name:  "the start token coming back",
			start: aws.String("s"), steps: []pageStep{{items: []int{1}, next: "s"}},
			want: []int{1}, wantErr: CodePagination, recorded: true,
		},
		{
			name:  "error on a later page keeps what was read",
			steps: []pageStep{{items: []int{1}, next: "a"}, {err: denied}},
			want:  []int{1}, wantErr: "AccessDeniedException", recorded: true,
		},
		{name: "error on the first page", steps: []pageStep{{err: denied}}, wantErr: "AccessDeniedException", recorded: true},
		{
			name:  "a fetch that finds the answer inconsistent",
			steps: []pageStep{{items: []int{1}, next: "a"}, {err: newScanError(CodePagination, "truncated without a marker")}},
			want:  []int{1}, wantErr: CodePagination, recorded: true,
		},
		{
			name:  "quiet: the error is returned, not recorded",
			steps: []pageStep{{items: []int{1}, next: "a"}, {items: []int{2}, next: "a"}}, quiet: true,
			want: []int{1, 2}, wantErr: CodePagination,
		},
		{name: "quiet API error", steps: []pageStep{{err: denied}}, quiet: true, wantErr: "AccessDeniedException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testCollector()
			var asked []string
			var seen [][]int
			call := 0
			got, err := paginate(context.Background(), c,
				listing{w: where{account: callerAcct, region: "us-east-1"}, svc: "ecs", op: "ListThings", resource: "r", start: tt.start, maxPages: tt.maxPages, quiet: tt.quiet},
				func(page []int) { seen = append(seen, page) },
				func(ctx context.Context, token *string) ([]int, *string, error) {
					asked = append(asked, aws.ToString(token))
					if call >= len(tt.steps) {
						t.Fatalf("call %d beyond the script (tokens asked: %v)", call, asked)
					}
					s := tt.steps[call]
					call++
					if s.err != nil {
						return nil, nil, s.err
					}
					var next *string
					if s.next != "" {
						next = aws.String(s.next)
					}
					return s.items, next, nil
				})
			if !slices.Equal(got, tt.want) {
				t.Errorf("items %v, want %v", got, tt.want)
			}
			if code := errorCode(err); code != tt.wantErr {
				t.Errorf("error %v (code %q), want code %q", err, code, tt.wantErr)
			}
			var flat []int
			for _, p := range seen {
				flat = append(flat, p...)
			}
			if !slices.Equal(flat, tt.want) {
				t.Errorf("onPage saw %v, want %v", flat, tt.want)
			}
			// Each call after the first asks for the token the previous page gave.
			for i := 1; i < len(asked); i++ {
				if asked[i] != tt.steps[i-1].next {
					t.Errorf("call %d asked for token %q, want %q", i, asked[i], tt.steps[i-1].next)
				}
			}
			if tt.start != nil && (len(asked) == 0 || asked[0] != *tt.start) {
				t.Errorf("first call asked for %v, want the start token %q", asked, *tt.start)
			}
			switch {
			case tt.recorded && len(c.errs) != 1:
				t.Errorf("recorded %+v, want one error", c.errs)
			case tt.recorded:
				e := c.errs[0]
				if e.Code != tt.wantErr || e.Operation != "ListThings" || e.Service != "ecs" || e.Resource != "r" || e.AccountID != callerAcct || e.Region != "us-east-1" {
					t.Errorf("recorded %+v", e)
				}
			case len(c.errs) != 0:
				t.Errorf("recorded %+v, want nothing", c.errs)
			}
		})
	}
}

// The default cap is maxPages.
func TestPaginateDefaultCap(t *testing.T) {
	c := testCollector()
	n := 0
	got, err := paginate(context.Background(), c, listing{svc: "ecs", op: "ListThings"}, nil,
		func(ctx context.Context, token *string) ([]int, *string, error) {
			n++
			return []int{n}, aws.String(strconv.Itoa(n)), nil
		})
	if errorCode(err) != CodePagination || len(got) != maxPages || n != maxPages {
		t.Errorf("%d items, %d calls, err %v; want %d and a pagination error", len(got), n, err, maxPages)
	}
}
