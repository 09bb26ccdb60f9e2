package daemon

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/home"
)

// upProbe is the daemon's Out: when the daemon says its local API is up, it
// asks the socket for the status at once, as a script started on that line
// would.
type upProbe struct {
	client *api.Client
	mu     sync.Mutex
	said   bool
	err    error
}

func (p *upProbe) Write(b []byte) (int, error) {
	if strings.Contains(string(b), "local API on") {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := p.client.Status(ctx)
		p.mu.Lock()
		p.said, p.err = true, err
		p.mu.Unlock()
	}
	return len(b), nil
}

// The daemon says where its local API is only once the socket answers.
func TestSocketAnswersWhenAnnounced(t *testing.T) {
	dir, err := os.MkdirTemp("", "lc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	h, err := home.Open(filepath.Join(dir, "h"))
	if err != nil {
		t.Fatal(err)
	}
	probe := &upProbe{client: api.NewClient(h.SocketPath())}
	t.Cleanup(probe.client.Close)
	d, err := New(Config{Home: h, Server: "127.0.0.1:1", NoMDNS: true, NoUI: true, Listen: "127.0.0.1:0", Out: probe})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.After(time.Minute)
	for {
		probe.mu.Lock()
		said, perr := probe.said, probe.err
		probe.mu.Unlock()
		if said {
			if perr != nil {
				t.Errorf("status right after the daemon said its API is up: %v", perr)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("daemon stopped before it said its API is up: %v", err)
		case <-deadline:
			t.Fatal("daemon did not say its API is up within a minute")
		case <-time.After(5 * time.Millisecond):
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run: %v", err)
		}
	case <-time.After(time.Minute):
		t.Fatal("Run did not return within a minute of its context ending")
	}
}
