package rawcopy

import (
	"bytes"
	"fmt"
	"regexp"
	"sync"
	"time"
)

// lockedBuffer is a bytes.Buffer safe to read while a goroutine writes it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *lockedBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *lockedBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Loopback runs c's serve half with serveArgs in this process and, once
// it listens, its send half with sendArgs on the file src; it returns
// what each printed. The baselines' tests use it.
func (c Command) Loopback(serveArgs, sendArgs []string, src string) (serveOut, sendOut string, err error) {
	var srv lockedBuffer
	served := make(chan int, 1)
	go func() { served <- c.Run(append([]string{"serve"}, serveArgs...), &srv, &srv) }()
	re := regexp.MustCompile(regexp.QuoteMeta(c.Name) + ` listening on (\S+)`)
	var addr string
	for deadline := time.Now().Add(10 * time.Second); addr == "" && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if m := re.FindStringSubmatch(srv.String()); m != nil {
			addr = m[1]
		}
	}
	if addr == "" {
		return srv.String(), "", fmt.Errorf("no listening line: %s", srv.String())
	}
	var out, errOut bytes.Buffer
	args := append(append([]string{"send", "--to", addr}, sendArgs...), src)
	if code := c.Run(args, &out, &errOut); code != 0 {
		return srv.String(), out.String(), fmt.Errorf("send exited %d: %s", code, errOut.String())
	}
	if code := <-served; code != 0 {
		return srv.String(), out.String(), fmt.Errorf("serve exited %d: %s", code, srv.String())
	}
	return srv.String(), out.String(), nil
}
