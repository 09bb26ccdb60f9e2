package transfer

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/lanchat/lanchat/transfer/checkpoint"
)

// maxRenames bounds the search for a free name ("report (1).pdf", ...).
const maxRenames = 1000

// planner picks where each entry of an accepted offer goes under the
// destination: the sanitised path, except that no name may already
// exist, on disk or earlier in the same offer. A top-level folder that
// exists becomes "photos (1)" rather than being merged into, so every
// folder a transfer writes into is one it created.
type planner struct {
	root  *os.Root
	dirs  map[string]string // offered folder path → planned path
	taken map[string]bool   // planned paths, case-folded, for case-insensitive disks
	fresh map[string]bool   // planned folders that do not exist yet
}

func newPlanner(root *os.Root) *planner {
	return &planner{root: root, dirs: map[string]string{}, taken: map[string]bool{}, fresh: map[string]bool{"": false}}
}

// dir plans an offered folder (and its parents) and returns its path.
func (p *planner) dir(offered string) (string, error) {
	if planned, ok := p.dirs[offered]; ok {
		return planned, nil
	}
	parent, err := p.parent(offered)
	if err != nil {
		return "", err
	}
	planned, err := p.free(parent, path.Base(offered))
	if err != nil {
		return "", err
	}
	p.dirs[offered] = planned
	p.fresh[planned] = true
	return planned, nil
}

// file plans an offered file and returns its path.
func (p *planner) file(offered string) (string, error) {
	parent, err := p.parent(offered)
	if err != nil {
		return "", err
	}
	return p.free(parent, path.Base(offered))
}

func (p *planner) parent(offered string) (string, error) {
	d := path.Dir(offered)
	if d == "." {
		return "", nil
	}
	return p.dir(d)
}

// free returns the first of name, "name (1)", "name (2)"... in the
// planned folder parent that is neither planned nor on disk, and takes it.
func (p *planner) free(parent, name string) (string, error) {
	for n := range maxRenames {
		cand := path.Join(parent, numbered(name, n))
		if p.taken[strings.ToLower(cand)] {
			continue
		}
		if !p.fresh[parent] {
			exists, err := lexists(p.root, cand)
			if err != nil {
				return "", err
			}
			if exists {
				continue
			}
		}
		p.taken[strings.ToLower(cand)] = true
		return cand, nil
	}
	return "", fmt.Errorf("no free name for %q after %d tries", path.Join(parent, name), maxRenames)
}

// lexists reports whether rel names anything under root, a dangling
// link included.
func lexists(root *os.Root, rel string) (bool, error) {
	_, err := root.Lstat(filepath.FromSlash(rel))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	default:
		return false, err
	}
}

// numbered returns name for n == 0, else name with " (n)" before its
// extension, shortened to fit MaxNameBytes: "report (1).pdf".
func numbered(name string, n int) string {
	if n == 0 {
		return name
	}
	ext := path.Ext(name)
	if len(ext) > maxKeptExt || len(ext) == len(name) {
		ext = ""
	}
	stem := name[:len(name)-len(ext)]
	suffix := " (" + strconv.Itoa(n) + ")"
	return truncateBytes(stem, MaxNameBytes-len(suffix)-len(ext)) + suffix + ext
}

// partialName is the file an entry is written to until its whole hash
// matches: hidden, beside its final place, named after it, unique to the
// transfer and entry, and never a name Sanitize lets an entry have.
func partialName(final, id string, entry int) string {
	dir, base := path.Split(final)
	tail := "." + id[:8] + "-" + strconv.Itoa(entry) + partialSuffix
	return dir + "." + truncateBytes(base, MaxNameBytes-1-len(tail)) + tail
}

// ensureDir makes the folder rel under root, one component at a time,
// and refuses to go through an existing symbolic link or non-folder: a
// link planted inside the destination must not redirect our writes.
// (os.Root already keeps every operation inside the destination.)
func ensureDir(root *os.Root, rel string) error {
	if rel == "" {
		return nil
	}
	parts := strings.Split(rel, "/")
	for i := range parts {
		p := filepath.FromSlash(strings.Join(parts[:i+1], "/"))
		info, err := root.Lstat(p)
		if errors.Is(err, fs.ErrNotExist) {
			if err = root.Mkdir(p, 0o755); errors.Is(err, fs.ErrExist) {
				info, err = root.Lstat(p)
			} else if err == nil {
				continue
			}
		}
		if err != nil {
			return fmt.Errorf("make folder %s: %w", p, err)
		}
		if info.Mode()&fs.ModeSymlink != 0 || !info.IsDir() {
			return fmt.Errorf("%w: %s is %v, not a folder", ErrUnsafePath, p, info.Mode().Type())
		}
	}
	return nil
}

// openPartial opens an entry's partial file for writing, creating it if
// create is set, and refuses anything but a regular file.
func openPartial(root *os.Root, rel string, create bool) (*os.File, error) {
	name := filepath.FromSlash(rel)
	if create {
		// Usually there is nothing there yet. O_EXCL follows no link,
		// so what exists, a link included, gets the checks below.
		if f, err := root.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
			return f, nil
		}
	}
	info, err := root.Lstat(name)
	switch {
	case err == nil && !info.Mode().IsRegular():
		return nil, fmt.Errorf("%w: %s is %v, not a file", ErrUnsafePath, rel, info.Mode().Type())
	case err != nil && !(create && errors.Is(err, fs.ErrNotExist)):
		return nil, fmt.Errorf("open partial file: %w", err)
	}
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := root.OpenFile(name, flag, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open partial file: %w", err)
	}
	return f, nil
}

// place moves a verified partial file to final, or to the first free
// "final (n)" if final exists by now: a hard link fails rather than
// replace anything. Where links are not supported, a rename after a
// check stands in. It returns the name used.
func place(root *os.Root, partial, final string) (string, error) {
	dir, base := path.Split(final)
	from := filepath.FromSlash(partial)
	for n := range maxRenames {
		cand := dir + numbered(base, n)
		to := filepath.FromSlash(cand)
		err := root.Link(from, to)
		if err == nil {
			if err := root.Remove(from); err != nil {
				return "", fmt.Errorf("remove partial file: %w", err)
			}
			return cand, nil
		}
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		exists, lerr := lexists(root, cand)
		if lerr != nil {
			return "", fmt.Errorf("place %s: %w", cand, lerr)
		}
		if exists {
			continue
		}
		if err := root.Rename(from, to); err != nil {
			return "", fmt.Errorf("place %s: %w", cand, err)
		}
		return cand, nil
	}
	return "", fmt.Errorf("place %s: no free name after %d tries", final, maxRenames)
}

// rootError marks os.Root's refusal to follow a link out of the
// destination (or an absolute one) as ErrUnsafePath. os does not export
// that error, hence the match on its text.
func rootError(err error) error {
	if err != nil && !errors.Is(err, ErrUnsafePath) && strings.Contains(err.Error(), "path escapes from parent") {
		return fmt.Errorf("%w: %w", ErrUnsafePath, err)
	}
	return err
}

// plannedDirs returns the folders a checkpoint's entries live in, the
// deepest first.
func plannedDirs(cp *checkpoint.Transfer) []string {
	set := map[string]bool{}
	for _, e := range cp.Entries {
		d := e.Path
		if !e.Dir {
			d = path.Dir(d)
		}
		for d != "." && d != "" && !set[d] {
			set[d] = true
			d = path.Dir(d)
		}
	}
	dirs := make([]string, 0, len(set))
	for d := range set {
		dirs = append(dirs, d)
	}
	slices.SortFunc(dirs, func(a, b string) int {
		return strings.Count(b, "/") - strings.Count(a, "/")
	})
	return dirs
}
