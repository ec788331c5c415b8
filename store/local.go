package store

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/ecs-audit/audit/inventory"
)

// localBackend stores objects as files under dir, each written atomically
// (temporary file in the same directory, then rename).
type localBackend struct {
	dir string
}

func (l *localBackend) path(key string) string {
	return filepath.Join(l.dir, filepath.FromSlash(key))
}

func (l *localBackend) url(key string) string { return l.path(key) }

func (l *localBackend) put(ctx context.Context, key string, write func(io.Writer) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return inventory.WriteFileAtomic(l.path(key), write)
}

func (l *localBackend) copy(ctx context.Context, src, dst string) error {
	f, err := os.Open(l.path(src))
	if err != nil {
		return err
	}
	defer f.Close()
	return l.put(ctx, dst, func(w io.Writer) error {
		_, err := io.Copy(w, f)
		return err
	})
}

func (l *localBackend) get(ctx context.Context, key string) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return os.Open(l.path(key))
}

func (l *localBackend) remove(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.Remove(l.path(key)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return nil
}

// listLocal lists the regular files under dir, recursively, skipping
// hidden files and directories.
func listLocal(dir string) ([]Object, error) {
	var out []Object
	err := filepath.WalkDir(dir, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != dir && strings.HasPrefix(e.Name(), ".") {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() {
			return nil
		}
		info, err := e.Info()
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		out = append(out, Object{Name: filepath.ToSlash(rel), URL: p, Size: info.Size()})
		return nil
	})
	sortObjects(out)
	return out, err
}

func sortObjects(objs []Object) {
	sort.Slice(objs, func(i, j int) bool { return objs[i].Name < objs[j].Name })
}
