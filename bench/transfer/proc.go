package transfer

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/lanchat/lanchat/internal/testbed"
)

// proc is one child process the benchmark started, through the test bed.
type proc = testbed.Process

// procs starts processes and remembers them, so that every one still
// running when the benchmark ends is stopped.
type procs struct {
	dir string // where the logs go

	mu   sync.Mutex
	all  []*proc
	seen map[string]int // log names used, for unique file names
}

// start runs bin with args, in network namespace ns unless ns is "",
// with env added to the benchmark's environment, its output in a log
// file named after name.
func (ps *procs) start(name, ns string, env []string, bin string, args ...string) (*proc, error) {
	ps.mu.Lock()
	if ps.seen == nil {
		ps.seen = map[string]int{}
	}
	ps.seen[name]++
	logPath := filepath.Join(ps.dir, fmt.Sprintf("%s.%d.log", strings.ReplaceAll(name, "/", "_"), ps.seen[name]))
	ps.mu.Unlock()
	cmd := testbed.Command(ns, bin, args...)
	cmd.Env = append(os.Environ(), env...)
	p, err := testbed.StartCmd(name, logPath, cmd)
	if err != nil {
		return nil, err
	}
	ps.mu.Lock()
	ps.all = append(ps.all, p)
	ps.mu.Unlock()
	return p, nil
}

// stopAll stops every process still running, newest first.
func (ps *procs) stopAll() error {
	ps.mu.Lock()
	all := append([]*proc(nil), ps.all...)
	ps.mu.Unlock()
	var errs []error
	for i := len(all) - 1; i >= 0; i-- {
		if p := all[i]; !p.Exited() {
			errs = append(errs, p.Stop())
		}
	}
	return errors.Join(errs...)
}

// Network namespaces are named nsPrefix + the benchmark's process id +
// a sequence number + a suffix, so that those of a run that was killed
// before it could clean up are recognised and removed.
const nsPrefix = "xferload-"

// linkSubnet is the emulated link's /24; its addresses exist only inside
// the two namespaces.
const linkSubnet = "10.213.77"
