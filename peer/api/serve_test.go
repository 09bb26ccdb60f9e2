package api_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lanchat/lanchat/peer/api"
	"github.com/lanchat/lanchat/peer/api/apitest"
)

func statusService() *apitest.Service {
	return &apitest.Service{StatusFunc: func(context.Context) (api.Status, error) {
		return api.Status{Version: "test"}, nil
	}}
}

func TestSocketMode(t *testing.T) {
	d := startDaemon(t, statusService())
	fi, err := os.Stat(d.socket)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("socket mode %o, want 600", mode)
	}
}

func TestSecondServeRefuses(t *testing.T) {
	d := startDaemon(t, statusService())
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := api.Serve(ctx, d.socket, http.NotFoundHandler())
	if !errors.Is(err, api.ErrDaemonRunning) {
		t.Fatalf("second Serve: %v, want ErrDaemonRunning", err)
	}
	if !strings.Contains(err.Error(), "already running") {
		t.Errorf("error %q does not say a daemon is running", err)
	}
	// The first daemon still answers.
	if _, err := d.client.Status(testContext(t)); err != nil {
		t.Errorf("first daemon after the refused second: %v", err)
	}
}

func TestStaleSocketReplaced(t *testing.T) {
	socket := filepath.Join(shortDir(t), "daemon.sock")
	makeStaleSocket(t, socket)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- api.Serve(ctx, socket, api.NewHandler(statusService(), api.Parts{}, nil)) }()
	c := api.NewClient(socket)
	defer c.Close()
	var err error
	for range 500 {
		if _, err = c.Status(testContext(t)); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("daemon on a replaced stale socket: %v", err)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket left behind after shutdown: %v", err)
	}
}

func TestServeRefusesNonSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "daemon.sock")
	if err := os.WriteFile(path, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	err := api.Serve(testContext(t), path, http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Serve on a regular file: %v", err)
	}
	if b, _ := os.ReadFile(path); string(b) != "keep me" {
		t.Errorf("the file was touched: %q", b)
	}
}

func TestServeRefusesLongPath(t *testing.T) {
	path := filepath.Join(shortDir(t), strings.Repeat("d", 120), "daemon.sock")
	err := api.Serve(testContext(t), path, http.NotFoundHandler())
	if err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Fatalf("Serve on a long path: %v", err)
	}
}

func TestShutdownEndsRequests(t *testing.T) {
	started := make(chan struct{})
	svc := &apitest.Service{StatusFunc: func(ctx context.Context) (api.Status, error) {
		close(started)
		<-ctx.Done()
		return api.Status{}, ctx.Err()
	}}
	d := startDaemon(t, svc)
	errc := make(chan error, 1)
	go func() {
		_, err := d.client.Status(context.Background())
		errc <- err
	}()
	<-started
	d.stop() // fails the test if Serve does not return
	if err := <-errc; err == nil {
		t.Error("a request in flight at shutdown succeeded")
	}
}
