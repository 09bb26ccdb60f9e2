package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"
)

// The shared cluster of a test binary: started by the first test that asks
// for a database, stopped by Main.
var shared struct {
	once sync.Once
	c    *Cluster
	err  error
}

// Main runs the package's tests and then stops the shared cluster, if one
// was started. Call it from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.c != nil {
		if err := shared.c.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "pgtest: stop cluster:", err)
		}
	}
	return code
}

// Shared returns the test binary's cluster, starting it the first time.
// It skips the test when the PostgreSQL binaries are not installed (fails
// it in CI, where CI=true) and fails it if the cluster will not start.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		shared.c, shared.err = Start(ctx)
	})
	if errors.Is(shared.err, ErrNoPostgres) {
		if os.Getenv("CI") == "true" {
			t.Fatal(shared.err, "(.ci/run installs it; in CI these tests must run)")
		}
		t.Skip(shared.err)
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.c
}

// NewDatabase creates an empty database in the shared cluster for this
// test and returns its URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	return NewDatabaseFrom(t, "")
}

// NewDatabaseFrom creates a database in the shared cluster for this test,
// a copy of the database at templateURL (which nobody may be connected
// to), and returns its URL.
func NewDatabaseFrom(t testing.TB, templateURL string) string {
	t.Helper()
	c := Shared(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	u, err := c.CreateDatabase(ctx, DatabaseName(templateURL))
	if err != nil {
		t.Fatal(err)
	}
	return u
}
